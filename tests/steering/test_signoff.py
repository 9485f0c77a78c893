"""Sign-off by both parties: the minutes of a meeting are approved only when a co-chair of each has signed."""

import datetime

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from portal.errors import AlreadyExists, InvalidInput, NotAllowed, WrongState
from portal.models import Notification, Profile
from steering import services, signoff
from steering.models import Decision, Meeting, Signature, SignOff


def submit(world, meeting=None):
    return services.submit_minutes(by=world.secretary, meeting=meeting or world.meeting)


def round_of(meeting) -> SignOff:
    return SignOff.objects.of(meeting).order_by("-number").first()


def sign_page(client, meeting, action="sign", round=None, follow=False, **data):
    round = round or round_of(meeting)
    return client.post(reverse(f"signoff-{action}", args=[round.pk]), data, follow=follow)


def fresh(meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


# The paths ------------------------------------------------------------------------------------------


def test_minutes_signed_by_both_parties_are_approved_at_the_second_signature(signing_world):
    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    second = signoff.sign(by=world.cochair_interpol, subject=world.meeting)

    meeting = fresh(world.meeting)
    assert meeting.minutes_approved_at == second.signed_at
    assert meeting.minutes_approved_by == world.cochair_interpol
    assert round_of(meeting).state == SignOff.State.APPROVED
    assert [(s.party, s.signer) for s in signoff.signatures_of(meeting)] == [
        ("UNODC", world.cochair_unodc),
        ("INTERPOL", world.cochair_interpol),
    ]


def test_approved_minutes_leave_the_record_read_only(signing_world, as_user):
    world = signing_world
    submit(world)
    for chair in (world.cochair_unodc, world.cochair_interpol):
        signoff.sign(by=chair, subject=world.meeting)
    response = as_user(world.secretary).post(
        reverse("meeting-decision", args=[world.meeting.pk]), {"decision-text": "Too late."}
    )
    assert "read-only" in response.content.decode()
    assert not Decision.objects.exists()


def test_one_signature_leaves_the_minutes_waiting_for_the_other_party(signing_world, as_user):
    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)

    assert fresh(world.meeting).minutes_approved_at is None
    assert list(signoff.awaited(world.meeting)) == ["INTERPOL"]
    assert signoff.awaited(world.meeting)["INTERPOL"] == [world.cochair_interpol]
    page = as_user(world.secretary).get(reverse("meeting-detail", args=[world.meeting.pk])).content.decode()
    assert "Waiting for INTERPOL" in page
    assert "Ursula Berger" in page


def test_the_record_is_read_only_while_the_minutes_await_signatures(signing_world, as_user):
    world = signing_world
    submit(world)
    response = as_user(world.secretary).post(
        reverse("meeting-decision", args=[world.meeting.pk]), {"decision-text": "Slipped in."}
    )
    assert "read-only until both parties sign, or one declines" in response.content.decode()
    assert not Decision.objects.exists()


def test_submitting_the_minutes_tells_the_awaited_co_chairs(signing_world, django_capture_on_commit_callbacks):
    world = signing_world
    with django_capture_on_commit_callbacks(execute=True):
        submit(world)
    told = Notification.objects.filter(kind="signature_awaited")
    assert {n.recipient for n in told} == {world.cochair_unodc, world.cochair_interpol}
    assert all(n.url == reverse("meeting-detail", args=[world.meeting.pk]) for n in told)
    assert sorted(message.to[0] for message in mail.outbox) == ["cochair@example.org", "ursula@example.org"]


def test_a_co_chair_who_chose_no_e_mail_is_listed_only(signing_world, django_capture_on_commit_callbacks):
    world = signing_world
    Profile.objects.filter(user=world.cochair_unodc).update(email_choices={"signature_awaited": "none"})
    with django_capture_on_commit_callbacks(execute=True):
        submit(world)
    assert Notification.objects.filter(kind="signature_awaited", recipient=world.cochair_unodc).exists()
    assert [message.to for message in mail.outbox] == [["cochair@example.org"]]


def test_a_decline_sends_the_minutes_back_to_the_secretary_editable_again(signing_world, as_user):
    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    response = sign_page(
        as_user(world.cochair_interpol), world.meeting, "decline", **{"decline-reason": "Decision 2 is misquoted."}
    )
    assert response.status_code == 302

    meeting = fresh(world.meeting)
    assert meeting.minutes_submitted_at is None and meeting.minutes_approved_at is None
    assert round_of(meeting).state == SignOff.State.DECLINED
    services.add_decision(by=world.secretary, meeting=meeting, text="Corrected decision.")
    assert Decision.objects.filter(meeting=meeting).exists()


def test_a_decline_tells_the_secretary_why_and_the_co_chair_whose_signature_it_voids(signing_world):
    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    signoff.decline(by=world.cochair_interpol, subject=world.meeting, reason="Decision 2 is misquoted.")

    told = Notification.objects.filter(kind="signoff_outcome")
    assert {n.recipient for n in told} == {world.secretary, world.cochair_unodc}
    assert all("Decision 2 is misquoted." in n.body for n in told)


def test_both_signatures_tell_the_secretary(signing_world):
    world = signing_world
    submit(world)
    for chair in (world.cochair_unodc, world.cochair_interpol):
        signoff.sign(by=chair, subject=world.meeting)
    assert [n.recipient for n in Notification.objects.filter(kind="signoff_outcome")] == [world.secretary]


def test_submitting_again_after_a_decline_opens_a_new_round_and_keeps_the_old_one(signing_world, as_user):
    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    signoff.decline(by=world.cochair_interpol, subject=world.meeting, reason="Decision 2 is misquoted.")
    submit(world)

    assert list(SignOff.objects.of(world.meeting).values_list("number", "state")) == [(1, "declined"), (2, "open")]
    assert signoff.awaited(world.meeting).keys() == {"UNODC", "INTERPOL"}
    page = as_user(world.secretary).get(reverse("meeting-detail", args=[world.meeting.pk])).content.decode()
    assert "Earlier round (1)" in page and "Decision 2 is misquoted." in page and "(void)" in page


def test_only_the_awaited_co_chair_sees_the_sign_and_decline_buttons(signing_world, as_user):
    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    url = reverse("meeting-detail", args=[world.meeting.pk])
    assert "Sign for INTERPOL" in as_user(world.cochair_interpol).get(url).content.decode()
    for someone in (world.cochair_unodc, world.secretary, world.committee):
        page = as_user(someone).get(url).content.decode()
        assert "Sign for" not in page and "Decline and send back" not in page, someone


def test_the_secretary_saves_the_minutes_before_submitting_them(signing_world, as_user):
    world = signing_world
    client = as_user(world.secretary)
    client.post(reverse("meeting-minutes", args=[world.meeting.pk]), {"minutes-minutes": "Draft.", "save": ""})
    assert fresh(world.meeting).minutes == "Draft." and round_of(world.meeting) is None
    client.post(reverse("meeting-minutes", args=[world.meeting.pk]), {"minutes-minutes": "Final.", "submit": ""})
    meeting = fresh(world.meeting)
    assert meeting.minutes == "Final." and meeting.minutes_submitted_at is not None
    assert round_of(meeting).submitted_by == world.secretary


# Bad input: refused with a message, nothing changed ---------------------------------------------------


def _answers():
    return list(Signature.objects.values_list("party", "decision", "signer"))


def test_signing_twice_is_refused(signing_world):
    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    with pytest.raises(AlreadyExists, match="Ursula Berger already signed .* for UNODC"):
        signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    assert len(_answers()) == 1


def test_signing_twice_on_the_page_shows_the_message(signing_world, as_user):
    world = signing_world
    submit(world)
    client = as_user(world.cochair_unodc)
    sign_page(client, world.meeting)
    response = sign_page(client, world.meeting, follow=True)
    assert "already signed" in response.content.decode()
    assert len(_answers()) == 1


def test_a_co_chair_cannot_sign_for_the_other_organisation(signing_world, as_user):
    world = signing_world
    submit(world)
    response = sign_page(as_user(world.cochair_unodc), world.meeting, party="INTERPOL")
    assert response.status_code == 403
    assert "You sit as the co-chair for UNODC: you cannot sign for INTERPOL." in response.content.decode()
    assert _answers() == []


def test_someone_without_a_co_chair_seat_cannot_sign(signing_world, as_user):
    world = signing_world
    submit(world)
    for someone in (world.secretary, world.committee, world.officer):
        response = sign_page(as_user(someone), world.meeting)
        assert response.status_code == 403, someone
        assert "Only a co-chair of each party signs" in response.content.decode()
    assert _answers() == []


def test_a_co_chair_working_for_the_other_organisation_cannot_sign(signing_world):
    world = signing_world
    Profile.objects.filter(user=world.cochair_unodc).update(organization=world.parties["INTERPOL"])
    submit(world)
    with pytest.raises(NotAllowed, match="You work for INTERPOL, but your seat on the committee is UNODC's"):
        signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    assert _answers() == []


def test_declining_without_a_reason_is_refused(signing_world, as_user):
    world = signing_world
    submit(world)
    response = sign_page(
        as_user(world.cochair_interpol), world.meeting, "decline", follow=True, **{"decline-reason": "  "}
    )
    assert "Say why you decline" in response.content.decode()
    assert _answers() == [] and round_of(world.meeting).is_open()


def test_signing_minutes_not_submitted_is_refused(signing_world):
    world = signing_world
    with pytest.raises(WrongState, match="Not submitted for signature"):
        signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    assert _answers() == []


def test_signing_a_withdrawn_round_is_refused(signing_world):
    world = signing_world
    submit(world)
    signoff.withdraw(subject=world.meeting)
    with pytest.raises(WrongState, match="Not submitted for signature"):
        signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    assert _answers() == []


def test_signing_minutes_already_approved_is_refused(signing_world):
    world = signing_world
    submit(world)
    for chair in (world.cochair_unodc, world.cochair_interpol):
        signoff.sign(by=chair, subject=world.meeting)
    with pytest.raises(WrongState, match="Already signed by both parties"):
        signoff.decline(by=world.cochair_unodc, subject=world.meeting, reason="Second thoughts.")
    assert len(_answers()) == 2 and round_of(world.meeting).state == "approved"


def test_signing_from_a_page_shown_before_a_decline_is_refused(signing_world, as_user):
    world = signing_world
    submit(world)
    shown = round_of(world.meeting)
    signoff.decline(by=world.cochair_unodc, subject=world.meeting, reason="Decision 2 is misquoted.")
    response = sign_page(as_user(world.cochair_interpol), world.meeting, round=shown, follow=True)
    assert "Declined for UNODC by Ursula Berger" in response.content.decode()
    assert "since this page was shown" in response.content.decode()
    assert list(Signature.objects.values_list("decision", flat=True)) == ["declined"]


def test_signing_a_round_replaced_since_the_page_was_shown_is_refused(signing_world, as_user):
    world = signing_world
    submit(world)
    shown = round_of(world.meeting)
    signoff.decline(by=world.cochair_unodc, subject=world.meeting, reason="Decision 2 is misquoted.")
    submit(world)
    response = sign_page(as_user(world.cochair_interpol), world.meeting, round=shown, follow=True)
    assert "Sent back and submitted again since this page was shown" in response.content.decode()
    assert not Signature.objects.filter(signoff__number=2).exists()


def test_submitting_minutes_twice_is_refused(signing_world):
    world = signing_world
    submit(world)
    with pytest.raises(WrongState, match="submitted for the co-chairs' signatures"):
        submit(world)
    assert SignOff.objects.count() == 1


def test_submitting_empty_minutes_is_refused(signing_world):
    world = signing_world
    with pytest.raises(InvalidInput, match="Write the minutes"):
        services.submit_minutes(by=world.secretary, meeting=world.meeting, minutes=" ")
    assert not SignOff.objects.exists() and fresh(world.meeting).minutes_submitted_at is None


def test_submitting_minutes_with_a_party_without_co_chair_is_refused(signing_world):
    world = signing_world
    world.committee_body.seats.filter(user=world.cochair_unodc).delete()
    with pytest.raises(WrongState, match="No co-chair sits for UNODC"):
        submit(world)
    assert not SignOff.objects.exists() and fresh(world.meeting).minutes_submitted_at is None


def test_a_co_chair_does_not_submit_minutes(signing_world):
    world = signing_world
    with pytest.raises(NotAllowed):
        services.submit_minutes(by=world.cochair_unodc, meeting=world.meeting)
    assert not SignOff.objects.exists()


def test_minutes_of_a_meeting_yet_to_be_held_are_not_submitted(signing_world):
    world = signing_world
    world.next_meeting.date = timezone.localdate() + datetime.timedelta(days=30)
    world.next_meeting.minutes = "Written too early."
    world.next_meeting.save()
    with pytest.raises(WrongState, match="submitted once it is held"):
        submit(world, world.next_meeting)
    assert not SignOff.objects.exists()


# The database keeps the rules, whatever the code does ------------------------------------------------


def test_a_second_answer_of_a_party_in_a_round_is_refused_by_the_database(signing_world):
    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            signoff=round_of(world.meeting), party="UNODC", decision="signed", signer=world.officer,
            signed_at=datetime.datetime.now(tz=datetime.UTC),
        )  # fmt: skip


def test_a_second_open_round_is_refused_by_the_database(signing_world):
    world = signing_world
    submit(world)
    first = round_of(world.meeting)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignOff.objects.create(
            kind="minutes", content_type=first.content_type, object_id=first.object_id, number=2,
            submitted_by=world.secretary, submitted_at=first.submitted_at,
        )  # fmt: skip


def test_a_recorded_signature_cannot_be_changed(signing_world, postgres):
    # Refused by a PostgreSQL trigger.
    world = signing_world
    submit(world)
    signature = signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    with pytest.raises(Exception, match="never changed once recorded"), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(signer=world.cochair_interpol)
    assert Signature.objects.get().signer == world.cochair_unodc


# Pages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rounds", [1, 6])
def test_meeting_page_query_count_does_not_grow_with_rounds(
    signing_world, as_user, django_assert_max_num_queries, rounds
):
    world = signing_world
    for _ in range(rounds - 1):
        submit(world)
        signoff.sign(by=world.cochair_unodc, subject=world.meeting)
        signoff.decline(by=world.cochair_interpol, subject=world.meeting, reason="Not yet.")
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    client = as_user(world.cochair_interpol)
    # the meeting page's own queries (record, earlier items, attendees, ...), the sign-off panel (rounds,
    # their signatures with signers, the co-chairs' seats) and the navigation's unread notifications
    with django_assert_max_num_queries(24):
        page = client.get(reverse("meeting-detail", args=[world.meeting.pk])).content.decode()
    assert page.count("(void)") == rounds - 1


# Two answers at once ---------------------------------------------------------------------------------


def _at_once(*calls):
    """Run the calls in threads released together (each on its own database connection); return what each
    returned or raised."""
    import threading

    from django.db import connection

    ready = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            ready.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the refusal is the result
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_co_chairs_of_a_party_signing_at_once_leave_one_signature(signing_world, postgres):
    from steering.models import CommitteeMember
    from tests.factories import UserFactory

    world = signing_world
    deputy = UserFactory(username="cochair.interpol.2", first_name="Inès", last_name="Moreau")
    CommitteeMember.objects.create(
        committee=world.committee_body, user=deputy, role=CommitteeMember.Role.CO_CHAIR_INTERPOL
    )
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)

    results = _at_once(
        lambda: signoff.sign(by=world.cochair_interpol, subject=world.meeting, round=1),
        lambda: signoff.sign(by=deputy, subject=world.meeting, round=1),
    )

    signed = [result for result in results if isinstance(result, Signature)]
    refused = [result for result in results if result not in signed]
    # The one that waited for the other's lock finds the minutes approved already.
    assert len(signed) == 1 and isinstance(refused[0], WrongState) and "Already signed by both" in str(refused[0])
    assert Signature.objects.filter(party="INTERPOL").count() == 1
    assert fresh(world.meeting).minutes_approved_at == signed[0].signed_at
    assert Notification.objects.filter(kind="signoff_outcome").count() == 1


@pytest.mark.django_db(transaction=True)
def test_both_parties_signing_at_once_approve_the_minutes_once(signing_world, postgres):
    world = signing_world
    submit(world)

    results = _at_once(
        lambda: signoff.sign(by=world.cochair_unodc, subject=world.meeting, round=1),
        lambda: signoff.sign(by=world.cochair_interpol, subject=world.meeting, round=1),
    )

    assert all(isinstance(result, Signature) for result in results), results
    last = max(results, key=lambda signature: signature.signed_at)
    meeting = fresh(world.meeting)
    assert meeting.minutes_approved_at == last.signed_at and meeting.minutes_approved_by == last.signer
    assert round_of(meeting).state == "approved"
    assert Notification.objects.filter(kind="signoff_outcome").count() == 1


def test_the_record_pdf_names_both_signatures(signing_world, as_user):
    import io

    import pypdf

    world = signing_world
    submit(world)
    for chair in (world.cochair_unodc, world.cochair_interpol):
        signoff.sign(by=chair, subject=world.meeting)
    response = as_user(world.committee).get(reverse("meeting-pdf", args=[world.meeting.pk]))
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "Signed for UNODC by Ursula Berger" in text and "Signed for INTERPOL by Ivan Novak" in text


def test_the_admin_reads_rounds_and_changes_none(signing_world, client):
    from tests.factories import UserFactory

    world = signing_world
    submit(world)
    signoff.sign(by=world.cochair_unodc, subject=world.meeting)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    round = round_of(world.meeting)
    page = client.get(reverse("admin:steering_signoff_change", args=[round.pk]))
    assert page.status_code == 200 and "cochair.unodc" in page.content.decode()
    client.post(reverse("admin:steering_signoff_delete", args=[round.pk]), {"post": "yes"})
    assert SignOff.objects.filter(pk=round.pk).exists() and Signature.objects.count() == 1


def test_minutes_approved_before_two_party_sign_off_still_show_who_approved_them(signing_world, as_user):
    world = signing_world
    Meeting.objects.filter(pk=world.meeting.pk).update(
        minutes_approved_at=datetime.datetime(2020, 9, 2, tzinfo=datetime.UTC), minutes_approved_by=world.cochair
    )
    page = as_user(world.secretary).get(reverse("meeting-detail", args=[world.meeting.pk])).content.decode()
    assert "Minutes approved on 2 September 2020 by Ivan Novak" in page
    assert "not submitted for signature yet" not in page
