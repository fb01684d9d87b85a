"""The web panel's Settings pages at /settings: sign-in, "Rouptimize API" (tokens) and "Webhooks".

Server-rendered HTML that runs its GraphQL documents in-process, through the same execution as
`POST /graphql`, as the signed-in admin. The session travels in an HttpOnly cookie that scripts
never see; every form carries a CSRF token bound to it (see `session.py`). Routes: `routes.py`."""
