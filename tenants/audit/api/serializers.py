from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from tenants.audit.models import AuditEvent


class AuditActorSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(source="actor_kind", choices=AuditEvent.ActorKind.choices,
                                   help_text="`tenant_user`, `platform_admin` (the platform's staff) or `system`.")
    id = serializers.IntegerField(source="actor_id", allow_null=True,
                                  help_text="The user's id (a tenant user's in this tenant); null for the system.")
    username = serializers.CharField(source="actor_username", help_text="As it was when they acted.")


class AuditTargetSerializer(serializers.Serializer):
    kind = serializers.CharField(source="target_kind", help_text="`tenant`, `user`, `document`, `panel` or `token`.")
    id = serializers.IntegerField(source="target_id", allow_null=True)
    label = serializers.CharField(source="target_label", help_text="Its name or title as it was then.")


@extend_schema_serializer(component_name="AuditEvent")
class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    action = serializers.ChoiceField(choices=AuditEvent.Action.choices)
    actor = AuditActorSerializer(source="*")
    target = AuditTargetSerializer(source="*")
    changes = serializers.DictField(
        help_text='What changed: `{"field": {"from": ..., "to": ...}}` (nested settings by dotted name); '
                  'a secret such as the LLM key only as `"changed"`.')
