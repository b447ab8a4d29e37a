"""Experts pages (on a tenant's host; the API is in agents/api/urls.py)."""

from django.urls import path

from agents import views

urlpatterns = [
    path("experts/", views.expert_list_view, name="expert-list"),
    path("experts/private/new/", views.private_expert_create_view, name="expert-private-create"),
    path("experts/private/<slug:slug>/edit/", views.private_expert_edit_view, name="expert-private-edit"),
    path("experts/private/<slug:slug>/delete/", views.private_expert_delete_view, name="expert-private-delete"),
    path("experts/<slug:slug>/", views.expert_detail_view, name="expert-detail"),
]
