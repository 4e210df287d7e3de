"""Mail: each regional workbook goes by email to its manager.

:mod:`xl_addin.mail.email` builds the messages from the templates in ``templates/email``,
validates every address before anything is sent, sends over SMTP (plain, STARTTLS or
implicit TLS) with retries, and keeps a JSON Lines send log so that a re-run delivers only
what is still missing.
"""
