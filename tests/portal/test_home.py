"""The home page: behind a login, showing the plan's focus areas."""

import pytest
from django.urls import reverse

from portal.demo import seed_demo
from portal.reference import load_reference_data
from tests import factories

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_answers(client):
    assert client.get(reverse("login")).status_code == 200


def test_demo_officer_logs_in_and_sees_the_six_focus_areas(client):
    load_reference_data()
    seed_demo(scale="S", seed=1, password="pw")

    response = client.post(reverse("login"), {"username": "officer", "password": "pw"}, follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "UNODC–INTERPOL Joint Action Plan 2018" in page
    for name in ("Terrorism", "Cybercrime", "Maritime and border security", "Institutional capacity"):
        assert name in page


def test_wrong_password_keeps_the_username_and_says_why(client):
    factories.UserFactory(username="olga")
    response = client.post(reverse("login"), {"username": "olga", "password": "wrong"})
    assert response.status_code == 200
    assert 'value="olga"' in response.content.decode()
    assert "correct username and password" in response.content.decode()


@pytest.mark.parametrize("activities", [3, 30])
def test_home_page_query_count_does_not_grow_with_the_plan(client, django_assert_max_num_queries, activities):
    load_reference_data()
    objective = factories.ObjectiveFactory(focus_area=factories.FocusAreaFactory._meta.model.objects.get(code="CYB"))
    factories.ActivityFactory.create_batch(activities, objective=objective)
    client.force_login(factories.UserFactory(is_superuser=True))
    # session, user, plan, focus areas with counts, current period
    with django_assert_max_num_queries(5):
        assert client.get(reverse("home")).status_code == 200
