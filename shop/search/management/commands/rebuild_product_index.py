from django.core.management.base import BaseCommand

from shop.search.indexing import rebuild_index


class Command(BaseCommand):
    help = "Rebuild the product search index (after bulk loads or a tokeniser change)."

    def handle(self, *args, **options):
        count = rebuild_index()
        self.stdout.write(self.style.SUCCESS(f"Indexed {count} products."))
