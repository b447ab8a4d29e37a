"""Every response under /api/ that is an error carries the one JSON error shape, even
when Django (not DRF) produced it: unknown URL, wrong method on a plain view, a crash."""

import logging

from config.api.errors import error_response

logger = logging.getLogger("askpanel.api")

GENERIC = {
    400: ("bad_request", "The request could not be understood."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("too_large", "The request body is too large."),
    500: ("server_error", "Something went wrong on our side; it has been logged."),
}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = GENERIC.get(response.status_code, ("error", "The request failed."))
            if response.status_code == 404:
                message = f"There is no API endpoint at {request.path}."
            return error_response(code, message, response.status_code)
        return response

    def process_exception(self, request, exception):
        if request.path.startswith("/api/"):
            logger.exception("unhandled error on %s", request.path)
            code, message = GENERIC[500]
            return error_response(code, message, 500)
        return None
