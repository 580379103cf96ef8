"""Every relation to the user model is either exported or listed as not
personal with a reason, so a new model holding someone's data cannot be
left out of the export by accident."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model

from privacy import export


def user_relations() -> set[tuple[str, str]]:
    User = get_user_model()
    found = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is User:
                # Inherited fields count once, on the model that declares them.
                found.add((field.model._meta.label, field.name))
    return found


def unlisted(covered: dict, not_personal: dict) -> list[tuple[str, str]]:
    return sorted(r for r in user_relations() if r not in covered and r not in not_personal)


def test_every_relation_to_users_is_exported_or_explained():
    missing = unlisted(export.COVERED, export.NOT_PERSONAL)
    assert not missing, (
        "Add these relations to privacy/export.py: export them (COVERED) or say "
        f"why they are not personal (NOT_PERSONAL): {missing}"
    )


def test_lists_name_only_real_relations_and_give_reasons():
    relations = user_relations()
    stale = sorted((set(export.COVERED) | set(export.NOT_PERSONAL)) - relations)
    assert not stale
    assert not set(export.COVERED) & set(export.NOT_PERSONAL)
    assert all(reason.strip() for reason in export.NOT_PERSONAL.values())
    sections = {key for key, _title in export.SECTION_TITLES}
    assert set(export.COVERED.values()) <= sections


def test_the_sweep_would_notice_a_new_relation():
    """The walk sees relations declared on concrete models of every app, and
    one left out of both lists is reported."""
    covered = dict(export.COVERED)
    del covered[("cms.Certificate", "user")]
    assert unlisted(covered, export.NOT_PERSONAL) == [("cms.Certificate", "user")]
    relations = user_relations()
    assert ("order.Order", "user") in relations
    assert ("wagtailcore.Page", "owner") in relations
    assert ("partner.Partner", "users") in relations
