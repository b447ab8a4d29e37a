"""What every operation of the OpenAPI schema shares: the one Error body and the error
responses a view lists by status code; how trimmed text fields are described; and the
postprocessing hooks of SPECTACULAR_SETTINGS (Retry-After on every 429, query enums by name).

A view documents itself with `@extend_schema(operation_id=..., responses={200: X,
**errors(400, 404)})`; tests/config/test_api_schema.py fails for an operation that does not.
"""

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `details.fields` names each field and what is wrong with it.",
    401: "No credentials, or a token that is not valid on this tenant.",
    403: "Not allowed: the tenant is suspended or its plan has no API access, X-Tenant-ID names "
         "another tenant than the host, or the user may not do this.",
    404: "No such object here, or no such tenant.",
    406: "The Accept header asks for a media type this endpoint does not produce.",
    409: "The request conflicts with the object's current state.",
    413: "The file or the request body is too large.",
    415: "The Content-Type, or the uploaded file's type, is not one this endpoint accepts.",
    429: "A limit was reached: the API's requests a minute (`throttled`: the user's or the tenant's, "
         "see `details.limit`) or a limit of the plan; `Retry-After` says how many seconds to wait "
         "when waiting helps.",
    502: "The model or embedding provider answered with an error.",
    503: "A provider or a service this endpoint needs is unavailable; try again later.",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. `invalid`, `not_found`, `limit_exceeded`.")
    message = serializers.CharField(help_text="What was wrong and what to do, for people.")
    details = serializers.DictField(help_text="More about the error; `fields` for invalid input.")


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    """The one shape of every API error: `{"error": {"code", "message", "details"}}`."""

    error = ErrorDetailSerializer()


def errors(*status_codes: int, media_type: str | None = None) -> dict:
    """Error responses for `@extend_schema(responses=...)`, each with the Error body. Views
    that also render files or streams pass `media_type="application/json"`, since errors are
    always JSON there."""
    return {
        (code if media_type is None else (code, media_type)): OpenApiResponse(ErrorSerializer, ERROR_DESCRIPTIONS[code])
        for code in status_codes
    }


# The characters str.strip() removes (str.isspace()), spelled out: a JSON Schema pattern is
# ECMA-262, whose `\s` lacks \x1c-\x1f and \x85 (tests/config/test_api_schema.py checks the list).
SPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def trimmed_length_pattern(length: int) -> str:
    """A pattern for text that has at least `length` characters once trimmed."""
    if length <= 1:
        return f"[^{SPACE}]"
    return f"^[{SPACE}]*[^{SPACE}][\\s\\S]{{{length - 2},}}[^{SPACE}][{SPACE}]*$"


class TrimmedTextExtension(OpenApiSerializerFieldExtension):
    """DRF trims a CharField's input before it checks blankness and `min_length`, so "  x"
    is refused where `minLength: 2` alone would accept it. The schema says so with a
    pattern: the text has `min_length` characters (at least one) once trimmed."""

    target_class = "rest_framework.serializers.CharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        has_pattern = "pattern" in schema or any(isinstance(v, RegexValidator) for v in field.validators)
        if direction == "request" and field.trim_whitespace and not field.allow_blank and not has_pattern:
            schema["pattern"] = trimmed_length_pattern(field.min_length or 1)
        return schema


def retry_after_on_429(result, generator, request, public):
    """A drf-spectacular postprocessing hook: every 429 response documents `Retry-After`."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            too_many = operation.get("responses", {}).get("429")
            if too_many is not None:
                too_many.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again (sent when waiting helps).",
                }
    return result


def query_enums_by_name(result, generator, request, public):
    """A drf-spectacular postprocessing hook (after postprocess_schema_enums): a query
    parameter whose choices are those of a named enum refers to it, so a generated client
    has one PanelTypeEnum rather than one enum per operation."""
    named = {
        tuple(sorted(map(str, schema["enum"]))): name
        for name, schema in result.get("components", {}).get("schemas", {}).items() if "enum" in schema
    }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                choices = schema.get("items", schema)
                name = named.get(tuple(sorted(map(str, choices.get("enum", [])))))
                if name and parameter.get("in") == "query":
                    choices.clear()
                    choices["$ref"] = f"#/components/schemas/{name}"
    return result
