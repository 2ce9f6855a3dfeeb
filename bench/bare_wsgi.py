"""The smallest WSGI application: what gunicorn itself costs per request (bench/run's
``bare`` scenario, the yardstick of the authz front)."""

BODY = b"ok"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
