"""The tasklist's pages, one blueprint per area: tasks, processes, instances, incidents,
users (own settings and the admin's user list)."""
