import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Division",
            fields=[
                ("code", models.CharField(max_length=12, primary_key=True, serialize=False, verbose_name="区划代码")),
                ("name", models.CharField(max_length=64, verbose_name="名称")),
                ("level", models.PositiveSmallIntegerField(choices=[(1, "省"), (2, "市"), (3, "区县"), (4, "乡镇/街道"), (5, "村/社区")], verbose_name="级别")),
                ("parent", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="children", to="divisions.division", verbose_name="上级")),
            ],
            options={
                "verbose_name": "行政区划",
                "verbose_name_plural": "行政区划",
                "ordering": ["code"],
                "indexes": [models.Index(fields=["parent", "code"], name="division_parent_code")],
            },
        ),
    ]
