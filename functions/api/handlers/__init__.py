"""The operator API's Lambda entry points: the JWT-scoped operator routes, the signed review
links, the health route and the self-check task."""
