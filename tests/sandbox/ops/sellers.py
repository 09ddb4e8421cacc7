"""Sellers API v1: getMarketplaceParticipations."""

from ..marketplaces import MARKETPLACES
from ..routing import Reply, Route


def marketplace_participation(seller, marketplace_id):
    data = MARKETPLACES[marketplace_id]
    return {
        "marketplace": {
            "id": marketplace_id,
            "name": data["name"],
            "countryCode": data["countryCode"],
            "defaultCurrencyCode": data["currency"],
            "defaultLanguageCode": data["language"],
            "domainName": data["domain"],
        },
        "participation": {"isParticipating": True, "hasSuspendedListings": False},
        "storeName": seller.store_name,
    }


def get_marketplace_participations(server, request):
    seller = request.seller
    return Reply(
        200,
        {
            "payload": [
                marketplace_participation(seller, mid) for mid in seller.marketplaces
            ]
        },
    )


ROUTES = [
    Route(
        "GET",
        "/sellers/v1/marketplaceParticipations",
        "getMarketplaceParticipations",
        get_marketplace_participations,
        rate=0.016,
        burst=15,
    ),
]
