"""Platform staff review cooperatives in Oscar's dashboard (/dashboard/cooperatives/)."""
