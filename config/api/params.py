"""The query string as data for an input serializer."""


def query_data(request, *, lists: tuple[str, ...] = ()) -> dict:
    """Plain data rather than the QueryDict: DRF reads a QueryDict like an HTML form, where
    an empty value means "not given", so `?status=` or `?k=` would pass unchecked although
    the schema refuses them. `lists` names the parameters that may repeat (`?tag=a&tag=b`)."""
    query = request.query_params
    return {key: query.getlist(key) if key in lists else query[key] for key in query}
