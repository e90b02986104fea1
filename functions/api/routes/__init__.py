"""Operator API routes that live in their own module, registered on the operator API's app by
``functions.api.handlers.operator`` (each module's ``register``: the handler passes its app and
helpers in, so the routes never import the handler)."""
