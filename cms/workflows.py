"""The moderation workflow for programme articles: an editor's draft goes to
review by the "审核员" group and is published only when one of them approves.

Wagtail picks a page's workflow from the nearest ancestor with one assigned,
so assigning "文章审核" to every ProgrammeIndexPage covers all articles under
it, whatever editors call the section. Kept in code rather than a data
migration because a test flush (and ``manage.py flush``) empties the tables
and post_migrate must put the workflow back; ``ensure_article_workflow`` is
idempotent and cheap, and runs from post_migrate (cms/apps.py), from
``load_demo`` (cms/demo.py) and when a ProgrammeIndexPage is created.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import connections
from django.utils.translation import gettext_lazy as _
from wagtail.models import (
    GroupApprovalTask,
    GroupPagePermission,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

WORKFLOW_NAME = "文章审核"
TASK_NAME = "审核员审核"
MODERATORS_GROUP = "审核员"
# Page permissions the moderators hold on each programme section: enough to
# open, edit and publish what they review; nothing elsewhere in the tree.
MODERATOR_PAGE_PERMISSIONS = ("change_page", "publish_page", "lock_page", "unlock_page")
# The tables the set-up touches; post_migrate also fires after a partial
# migrate, when some of them may not exist yet.
REQUIRED_TABLES = {
    "auth_group",
    "wagtailcore_workflow",
    "wagtailcore_workflowtask",
    "wagtailcore_workflowpage",
    "wagtailcore_groupapprovaltask",
    "wagtailcore_grouppagepermission",
    "cms_programmeindexpage",
}

# For makemessages: the names above are stored as data, shown in the admin.
_("文章审核")
_("审核员审核")
_("审核员")


def moderators_group() -> Group:
    """The "审核员" group, created with access to the Wagtail admin."""
    group, _created = Group.objects.get_or_create(name=MODERATORS_GROUP)
    access = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    ).first()
    if access is not None and not group.permissions.filter(pk=access.pk).exists():
        group.permissions.add(access)
    return group


def article_workflow(group: Group) -> Workflow:
    """The "文章审核" workflow with its single group-approval task."""
    workflow, _created = Workflow.objects.get_or_create(
        name=WORKFLOW_NAME, defaults={"active": True}
    )
    task = GroupApprovalTask.objects.filter(name=TASK_NAME).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=TASK_NAME)
    if not task.groups.filter(pk=group.pk).exists():
        task.groups.add(group)
    if not WorkflowTask.objects.filter(workflow=workflow).exists():
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    return workflow


def assign_to_section(page, workflow: Workflow, group: Group) -> None:
    """Make ``workflow`` moderate ``page``'s subtree unless editors already
    chose a workflow for that page, and let the moderators edit and publish
    there."""
    WorkflowPage.objects.get_or_create(page=page, defaults={"workflow": workflow})
    wanted = Permission.objects.filter(
        content_type__app_label="wagtailcore", codename__in=MODERATOR_PAGE_PERMISSIONS
    )
    have = set(
        GroupPagePermission.objects.filter(group=group, page=page).values_list(
            "permission_id", flat=True
        )
    )
    GroupPagePermission.objects.bulk_create(
        [
            GroupPagePermission(group=group, page=page, permission=permission)
            for permission in wanted
            if permission.pk not in have
        ]
    )


def ensure_article_workflow() -> Workflow:
    """Create what is missing of the article workflow and assign it to every
    ProgrammeIndexPage. Never changes a workflow editors assigned
    themselves."""
    from cms.models import ProgrammeIndexPage

    group = moderators_group()
    workflow = article_workflow(group)
    for section in ProgrammeIndexPage.objects.all():
        assign_to_section(section, workflow, group)
    return workflow


def ensure_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate receiver: set the workflow up the first time every app
    has migrated (the last app's signal), when its tables and permissions
    exist."""
    from django.apps import apps

    # Django sends post_migrate once per app that has models, in order.
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if not with_models or sender is not with_models[-1] or using != "default":
        return
    if not REQUIRED_TABLES <= set(connections[using].introspection.table_names()):
        return
    # Once: after that the workflow, its group and their assignments are the
    # editors' to change, and a later migrate (every deploy) must not put
    # back what an administrator removed.
    if (
        Workflow.objects.filter(name=WORKFLOW_NAME).exists()
        or Group.objects.filter(name=MODERATORS_GROUP).exists()
    ):
        return
    ensure_article_workflow()


def ensure_for_new_section(sender, instance, created: bool = False, raw: bool = False, **kwargs):
    """post_save receiver for ProgrammeIndexPage: a section editors add is
    moderated too."""
    if not created or raw:
        return
    group = moderators_group()
    assign_to_section(instance, article_workflow(group), group)
