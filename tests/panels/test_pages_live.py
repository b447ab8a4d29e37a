"""The live panel page, its fragments (card, status, human input, outcome), cancel,
human input and rating."""

import pytest
from django_tenants.utils import schema_context

from panels.lifecycle import Status
from panels.models import Contribution, Panel, PanelRating
from tests.conftest import make_user, page_client
from tests.panels.pages import add_contribution, make_panel

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(alpha, alpha_user, catalog):
    return make_panel(alpha, alpha_user, status=Status.IN_PROGRESS)


def test_anonymous_is_sent_to_sign_in(alpha, running):
    for url in (f"/panels/{running.pk}/", f"/panels/{running.pk}/status/"):
        response = page_client(alpha).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_shows_progress_cards_and_follows_the_event_stream(alpha, alpha_user, running):
    first = add_contribution(alpha, running, seat=0, text="<script>alert(1)</script> **De Novo** fits.")
    response = page_client(alpha, alpha_user).get(f"/panels/{running.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and f"<title>Panel {running.pk}:" in page
    assert "Round 1 of 2 · 1 of 3 experts answered this round" in page
    assert f'id="contribution-{first.pk}"' in page
    assert "<strong>De Novo</strong>" in page and "<script>alert(1)</script>" not in page
    assert f'data-events-url="/api/v1/panels/{running.pk}/events/"' in page
    with schema_context("alpha"):
        last = running.events.order_by("-id").first().pk
    assert f'data-last-seq="{last}"' in page and 'data-final="false"' in page
    assert "askpanel/panel-live.js" in page
    assert "Yes, cancel the panel" in page


def test_the_card_fragment_returns_that_contribution(alpha, alpha_user, running):
    first = add_contribution(alpha, running, seat=0, text="First expert's view on the predicate.")
    second = add_contribution(alpha, running, seat=1, text="Second expert disagrees about the predicate.")
    client = page_client(alpha, alpha_user)
    card = client.get(f"/panels/{running.pk}/contributions/{second.pk}/").content.decode()
    assert f'id="contribution-{second.pk}"' in card and "Second expert disagrees" in card
    assert "First expert" not in card and "<html" not in card
    assert client.get(f"/panels/{running.pk}/contributions/{first.pk + 1000}/").status_code == 404


def test_a_card_of_another_panel_is_404(alpha, alpha_user, running, catalog):
    other = make_panel(alpha, alpha_user, status=Status.IN_PROGRESS)
    contribution = add_contribution(alpha, other)
    assert page_client(alpha, alpha_user).get(
        f"/panels/{running.pk}/contributions/{contribution.pk}/").status_code == 404


def test_another_members_panel_is_404_and_an_admin_sees_it(alpha, running):
    carol = make_user(alpha, "carol")
    client = page_client(alpha, carol)
    for url in (f"/panels/{running.pk}/", f"/panels/{running.pk}/status/", f"/panels/{running.pk}/outcome/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/panels/{running.pk}/cancel/").status_code == 404
    admin = make_user(alpha, "boss", is_admin=True)
    assert page_client(alpha, admin).get(f"/panels/{running.pk}/").status_code == 200


def test_another_tenants_panel_ids_are_404(alpha, beta, running, beta_user):
    # The same id on beta's host is beta's schema, where no such panel exists.
    assert page_client(beta, beta_user).get(f"/panels/{running.pk}/").status_code == 404


def test_cancel_moves_the_panel_and_returns_to_its_page(alpha, alpha_user, running):
    response = page_client(alpha, alpha_user).post(f"/panels/{running.pk}/cancel/")
    assert response.status_code == 302 and response["Location"] == f"/panels/{running.pk}/"
    with schema_context("alpha"):
        assert Panel.objects.get(pk=running.pk).status == Status.CANCELLED


def test_a_final_panel_says_why_it_cannot_be_cancelled(alpha, alpha_user, catalog):
    done = make_panel(alpha, alpha_user, status=Status.COMPLETED)
    client = page_client(alpha, alpha_user)
    assert "a finished panel can't be cancelled" in client.get(f"/panels/{done.pk}/").content.decode()
    response = client.post(f"/panels/{done.pk}/cancel/")
    assert response.status_code == 409
    assert "already completed; there is nothing to cancel" in response.content.decode()


def test_a_failed_panel_shows_its_reason_and_keeps_the_transcript(alpha, alpha_user, catalog):
    panel = make_panel(alpha, alpha_user, status=Status.IN_PROGRESS)
    contribution = add_contribution(alpha, panel, text="What I said before the provider failed.")
    with schema_context("alpha"):
        panel.refresh_from_db()
        panel.transition(Status.FAILED, error="The model provider refused every call (HTTP 401).")
    page = page_client(alpha, alpha_user).get(f"/panels/{panel.pk}/").content.decode()
    assert "The panel failed" in page and "refused every call (HTTP 401)" in page
    assert f'id="contribution-{contribution.pk}"' in page and 'data-final="true"' in page


def test_a_hybrid_panel_awaiting_input_takes_it_from_the_page(alpha, alpha_user, catalog):
    from tenants.services import tenant_update_configuration

    tenant_update_configuration(tenant=alpha, features={"hybrid": True})
    panel = make_panel(alpha, alpha_user, panel_type="hybrid", status=Status.AWAITING_INPUT)
    add_contribution(alpha, panel)
    with schema_context("alpha"):
        from panels.services import human_input_deadline

        Panel.objects.filter(pk=panel.pk).update(input_deadline=human_input_deadline())
    client = page_client(alpha, alpha_user)
    page = client.get(f"/panels/{panel.pk}/").content.decode()
    assert "Your input, please" in page and 'class="countdown" data-deadline="' in page
    assert "Your input, please" in client.get(f"/panels/{panel.pk}/human/").content.decode()

    refused = client.post(f"/panels/{panel.pk}/human-input/", {"expert_name": "Dr Lee", "text": "Too short"})
    assert refused.status_code == 400 and "`text` must be 10 to 5000 characters." in refused.content.decode()
    response = client.post(f"/panels/{panel.pk}/human-input/", {
        "expert_name": "Dr Lee, cardiologist", "text": "Clinicians will need the false-positive rate by rhythm."})
    assert response.status_code == 302
    with schema_context("alpha"):
        panel.refresh_from_db()
        assert panel.status == Status.IN_PROGRESS
        assert Contribution.objects.get(panel=panel, kind="human_input").member.human_name == "Dr Lee, cardiologist"
    assert "Your input, please" not in client.get(f"/panels/{panel.pk}/human/").content.decode()


def test_human_input_when_not_awaiting_is_refused_on_the_form(alpha, alpha_user, running):
    response = page_client(alpha, alpha_user).post(f"/panels/{running.pk}/human-input/", {
        "expert_name": "Dr Lee", "text": "Input that arrives too late for the panel."})
    assert response.status_code == 409 and "not awaiting human input" in response.content.decode()


def test_rating_a_completed_panel(alpha, alpha_user, catalog):
    done = make_panel(alpha, alpha_user, status=Status.COMPLETED)
    client = page_client(alpha, alpha_user)
    response = client.post(f"/panels/{done.pk}/rate/", {"score": "4", "comment": "Useful dissent."})
    assert response.status_code == 302 and response["Location"] == f"/panels/{done.pk}/"
    with schema_context("alpha"):
        assert PanelRating.objects.get(panel=done).score == 4
    again = client.post(f"/panels/{done.pk}/rate/", {"score": "5"})
    assert again.status_code == 409 and "You already rated this panel." in again.content.decode()


def test_rating_needs_a_score_from_1_to_5_and_a_completed_panel(alpha, alpha_user, running):
    client = page_client(alpha, alpha_user)
    assert client.post(f"/panels/{running.pk}/rate/", {"score": "9"}).status_code == 400
    refused = client.post(f"/panels/{running.pk}/rate/", {"score": "3"})
    assert refused.status_code == 409 and "Only a completed panel can be rated" in refused.content.decode()
    with schema_context("alpha"):
        assert not PanelRating.objects.exists()


def test_the_outcome_of_a_completed_panel_is_the_report(alpha, alpha_user, catalog):
    done = make_panel(alpha, alpha_user, status=Status.COMPLETED)
    outcome = page_client(alpha, alpha_user).get(f"/panels/{done.pk}/outcome/").content.decode()
    assert "data-report" in outcome or "Completed" in outcome


def test_status_fragment_tracks_progress(alpha, alpha_user, running):
    client = page_client(alpha, alpha_user)
    assert "0 of 3 experts" not in client.get(f"/panels/{running.pk}/status/").content.decode()
    add_contribution(alpha, running, seat=0)
    add_contribution(alpha, running, seat=1)
    status = client.get(f"/panels/{running.pk}/status/").content.decode()
    assert "Round 1 of 2 · 2 of 3 experts answered this round" in status and "<html" not in status
