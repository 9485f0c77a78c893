"""Which e-mail address a provider's claims give, and whether it is verified."""

from sso.services import Identity


def test_the_id_tokens_email_and_flag_stand():
    identity = Identity.from_claims({"email": "a@unodc.org", "email_verified": True}, {"email": "b@unodc.org"})

    assert identity == Identity(email="a@unodc.org", email_verified=True)


def test_the_user_info_gives_the_email_the_id_token_lacks():
    identity = Identity.from_claims({"sub": "1"}, {"email": "a@unodc.org", "email_verified": True})

    assert identity == Identity(email="a@unodc.org", email_verified=True)


def test_a_flag_sent_as_the_string_true_counts():
    assert Identity.from_claims({"email": "a@unodc.org", "email_verified": "true"}, None).email_verified


def test_the_user_infos_flag_counts_for_the_same_address_without_one_in_the_id_token():
    identity = Identity.from_claims({"email": "a@unodc.org"}, {"email": "A@unodc.org", "email_verified": True})

    assert identity.email_verified


def test_the_user_infos_flag_does_not_count_for_another_address():
    identity = Identity.from_claims({"email": "a@unodc.org"}, {"email": "b@unodc.org", "email_verified": True})

    assert not identity.email_verified


def test_a_false_flag_or_none_is_not_verified():
    assert not Identity.from_claims({"email": "a@unodc.org", "email_verified": False}, None).email_verified
    assert not Identity.from_claims({"email": "a@unodc.org"}, None).email_verified


def test_no_email_anywhere_is_an_empty_address():
    assert Identity.from_claims({"sub": "1"}, {"sub": "1"}) == Identity(email="", email_verified=False)
