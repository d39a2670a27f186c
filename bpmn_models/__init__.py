"""Sample diagrams users start from (the insurance claim of `baton serve --demo`).

A package only so that the diagrams travel inside the wheel (`package_data`): the demo
loader finds them beside the installed `tasklist_ui`, as it does in a checkout.
"""
