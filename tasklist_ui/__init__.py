"""Baton's web tasklist: Flask + Jinja2, server-rendered, no JavaScript.

`tasklist_ui.app.create_app(engine=None, config=None)` builds the app; `tasklist_ui.cli:main`
is the `baton` command (`baton serve --demo` runs the tasklist with a job worker).
"""
