"""``beslut web``: the handläggare's own page, served by Starlette with Jinja2 templates.

``app.create_app`` builds the application; every call into the generator's library goes
through ``actions``, so the engine behind the page can be changed in one place.
"""
