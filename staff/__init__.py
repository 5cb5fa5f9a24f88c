"""The staff console: a small Starlette web app over ``bot/`` (GOV.UK Design System look)."""
