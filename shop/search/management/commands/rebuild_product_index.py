from django.core.management.base import BaseCommand

from shop.search.indexing import rebuild_index
from shop.search.models import PageSearchDocument


class Command(BaseCommand):
    help = (
        "Rebuild the site search index: products, and the CMS pages (courses, lessons, "
        "articles) searched beside them (after bulk loads or a tokeniser change)."
    )

    def handle(self, *args, **options):
        count = rebuild_index()
        pages = PageSearchDocument.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Indexed {count} products and {pages} pages."))
