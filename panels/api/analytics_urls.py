"""The analytics endpoint's route, included in the API's URL conf."""

from django.urls import path

from panels.api.analytics import AnalyticsView

urlpatterns = [
    path("analytics/", AnalyticsView.as_view(), name="analytics-api"),
]
