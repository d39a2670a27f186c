"""`{{secret:NAME}}` placeholders: how a diagram refers to a secret without containing it.

A diagram is uploaded by analysts and stored, shown and exported; an API key written into
it would leak everywhere. Instead a header or URL says `Bearer {{secret:CRM_TOKEN}}` and the
connector asks `ConnectorContext.secret("CRM_TOKEN")` at call time (environment variable
`BATON_SECRET_CRM_TOKEN`, else the secrets table). Error messages and logs show the
template, never the expanded value.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from connectors.errors import ConnectorError

PLACEHOLDER = re.compile(r"\{\{\s*secret:([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_MALFORMED = re.compile(r"\{\{\s*secret:")


def expand(text: str, lookup: Callable[[str], str], where: str) -> str:
    """Replace every `{{secret:NAME}}` in `text`; `where` names the field for errors."""
    if "{{" not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        try:
            return lookup(name)
        except KeyError as e:
            raise ConnectorError(f"{where}: {e.args[0] if e.args else e}") from None

    out = PLACEHOLDER.sub(sub, text)
    if _MALFORMED.search(PLACEHOLDER.sub("", text)):
        raise ConnectorError(f"{where}: malformed secret placeholder; write {{{{secret:NAME}}}} "
                             "with a name of letters, digits and underscores")
    return out


def has_placeholder(text: str) -> bool:
    return bool(PLACEHOLDER.search(text))
