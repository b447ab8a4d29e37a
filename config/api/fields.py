"""Serializer fields the API shares."""

from rest_framework import serializers


class TextField(serializers.CharField):
    """A CharField that takes text only: DRF's own turns a number or a boolean into text,
    which the schema (`type: string`) says is refused."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
