"""Customer and client-team e-mails: rendering (``shared.notify.render``) and delivery
(``shared.notify.mailers``).

Nothing is imported here, so that code which only sends (a function's composition wiring a
mailer) does not load the templates' engine (jinja2, babel) and the e-mail models, and code
which only renders does not load the mailers. Import from the submodule you use.
"""
