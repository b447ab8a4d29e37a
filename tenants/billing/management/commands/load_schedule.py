"""Write billing's Celery beat schedule into the database (public schema), where beat's
DatabaseScheduler reads it and the platform admin shows it. Run by `make run`; safe to run
again: each task is created once and its schedule refreshed from here. Whether a task is
enabled is left as a platform admin set it."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

# Times are UTC, like the rollup days and the billing months.
SCHEDULE = [
    {
        "name": "Usage rollup: today and yesterday",
        "task": "billing.usage_rollup",
        "every_minutes": 5,
        "description": "Recomputes the daily usage rollups of today and yesterday from the ledger.",
    },
    {
        "name": "Budget alerts",
        "task": "billing.budget_alerts_check",
        "every_minutes": 5,
        "description": "Emails tenant admins once per period when a budget passes its soft or hard limit.",
    },
    {
        "name": "Monthly statements: close last month",
        "task": "billing.statements_close_previous_month",
        "crontab": {"minute": "30", "hour": "0", "day_of_month": "1", "month_of_year": "*", "day_of_week": "*"},
        "description": "Closes every tenant's statement for the month that just ended (00:30 UTC on the 1st).",
    },
    {
        "name": "Panels: requeue stalled runs",
        "task": "panels.requeue_stale",
        "every_seconds": 30,
        "description": "Enqueues again the panels whose run has not beaten for a minute (its worker died), "
                       "instead of waiting for the broker's visibility timeout (an hour).",
    },
]


class Command(BaseCommand):
    help = "Create or refresh billing's periodic tasks (Celery beat, shown in the platform admin)."

    def handle(self, *args, **options):
        with transaction.atomic():
            for entry in SCHEDULE:
                schedule = {"interval": None, "crontab": None}
                if "every_minutes" in entry:
                    schedule["interval"], _ = IntervalSchedule.objects.get_or_create(
                        every=entry["every_minutes"], period=IntervalSchedule.MINUTES)
                elif "every_seconds" in entry:
                    schedule["interval"], _ = IntervalSchedule.objects.get_or_create(
                        every=entry["every_seconds"], period=IntervalSchedule.SECONDS)
                else:
                    schedule["crontab"], _ = CrontabSchedule.objects.get_or_create(**entry["crontab"], timezone="UTC")
                task, created = PeriodicTask.objects.update_or_create(
                    name=entry["name"],
                    defaults={"task": entry["task"], "description": entry["description"], **schedule},
                )
                self.stdout.write(f"{'created' if created else 'refreshed'}: {task}")
