"""The usage report and statements as the API shows them (tenants/billing/statements.py
builds both as dicts; these describe and shape them)."""

from rest_framework import serializers


class BudgetMeasureSerializer(serializers.Serializer):
    measure = serializers.ChoiceField(choices=["tokens", "cost"])
    limit = serializers.FloatField(help_text="The hard limit: tokens, or USD.")
    used = serializers.FloatField()
    remaining = serializers.FloatField()
    soft_limit = serializers.FloatField(help_text="Past this, a banner warns and tenant admins are emailed.")
    percent = serializers.FloatField()
    level = serializers.ChoiceField(choices=["ok", "soft", "hard"])


class BudgetSerializer(serializers.Serializer):
    period_start = serializers.DateTimeField()
    resets_at = serializers.DateTimeField(help_text="When the budgets start again (the next month).")
    level = serializers.ChoiceField(choices=["ok", "soft", "hard"], help_text="The worse of the two budgets.")
    tokens = BudgetMeasureSerializer()
    cost = BudgetMeasureSerializer()


class PlanLimitsUsageSerializer(serializers.Serializer):
    panels_this_month = serializers.IntegerField(help_text="Panels the tenant started this month.")
    max_panels_per_month = serializers.IntegerField()
    running = serializers.IntegerField(help_text="The tenant's panels started and not yet completed or failed.")
    max_concurrent_panels = serializers.IntegerField()


class UsageTotalsSerializer(serializers.Serializer):
    llm_calls = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    tokens = serializers.IntegerField()
    cost = serializers.FloatField(help_text="USD charged.")
    panels_started = serializers.IntegerField()
    panels_completed = serializers.IntegerField()
    panels_failed = serializers.IntegerField()


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    llm_calls = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    tokens = serializers.IntegerField()
    cost = serializers.FloatField()


class UsageModelSerializer(UsageDaySerializer):
    day = None
    provider = serializers.CharField()
    model = serializers.CharField()


class UsagePanelTypeSerializer(UsageDaySerializer):
    day = None
    panel_type = serializers.CharField(help_text='"" for calls outside a panel (e.g. expert re-ranking).')
    started = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()


class UsageUserSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    tokens = serializers.IntegerField()
    cost = serializers.FloatField()
    panels = serializers.IntegerField()


class UsageReportSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    scope = serializers.ChoiceField(choices=["tenant", "user"],
                                    help_text="`tenant` for tenant admins; `user`: a member's own usage only.")
    budget = BudgetSerializer(help_text="The tenant's monthly budgets (a member's panels draw on them too).")
    limits = PlanLimitsUsageSerializer()
    totals = UsageTotalsSerializer()
    by_day = UsageDaySerializer(many=True)
    by_model = UsageModelSerializer(many=True)
    by_panel_type = UsagePanelTypeSerializer(many=True)
    top_users = UsageUserSerializer(many=True, required=False, help_text="Tenant admins only.")


class StatementLineSerializer(serializers.Serializer):
    section = serializers.ChoiceField(choices=["panels", "llm", "storage", "embeddings"])
    item = serializers.CharField(help_text="A panel type, provider/model, ...")
    unit = serializers.CharField()
    quantity = serializers.FloatField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost = serializers.FloatField()


class StatementTotalsSerializer(serializers.Serializer):
    cost = serializers.FloatField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    tokens = serializers.IntegerField()
    llm_calls = serializers.IntegerField()
    panels_started = serializers.IntegerField()
    panels_completed = serializers.IntegerField()
    panels_failed = serializers.IntegerField()
    storage_gb_days = serializers.FloatField()
    embedding_texts = serializers.IntegerField()


class StatementSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    status = serializers.ChoiceField(choices=["open", "closed"],
                                     help_text="`open`: the month is not closed yet, figures so far.")
    closed_at = serializers.DateTimeField(allow_null=True)
    tier = serializers.CharField()
    lines = StatementLineSerializer(many=True)
    totals = StatementTotalsSerializer()
    budget = BudgetSerializer()
    csv_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    def get_csv_url(self, data) -> str:
        return f"/api/v1/usage/statements/{data['month']}.csv"

    def get_pdf_url(self, data) -> str:
        return f"/api/v1/usage/statements/{data['month']}.pdf"


class StatementListSerializer(serializers.Serializer):
    results = StatementSerializer(many=True)
