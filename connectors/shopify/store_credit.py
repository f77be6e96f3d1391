"""Shopify store credit: find the customer by email, then `storeCreditAccountCredit` on them
(Shopify creates the store credit account in that currency when there is none). Needs the
`read_customers` and `write_store_credit_account_transactions` scopes."""

from __future__ import annotations

from connectors.base import IssuedStoreCredit, StoreCreditSpec, TerminalConnectorError
from connectors.shopify.graphql import GraphQLClient, describe, user_errors
from connectors.shopify.money import from_minor

CUSTOMER_BY_EMAIL = """
query CustomerByEmail($query: String!) {
  customers(first: 1, query: $query) {
    nodes { id }
  }
}
"""

CREDIT = """
mutation CreditStoreCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction {
      id
      amount { amount currencyCode }
      account { id balance { amount currencyCode } }
    }
    userErrors { field message code }
  }
}
"""


def customer_id(client: GraphQLClient, shop: str, token: str, email: str) -> str:
    quoted = email.replace("\\\\", "").replace('"', "")
    data = client.execute(
        shop, token, CUSTOMER_BY_EMAIL, {"query": f'email:"{quoted}"'}, estimated_cost=2
    )
    nodes = ((data.get("customers") or {}).get("nodes")) or []
    if not nodes or not nodes[0].get("id"):
        raise TerminalConnectorError(
            "the store has no customer account with this email, and store credit needs one"
        )
    return str(nodes[0]["id"])


def credit(
    client: GraphQLClient, shop: str, token: str, spec: StoreCreditSpec
) -> IssuedStoreCredit:
    owner = customer_id(client, shop, token, spec.customer_email)
    credit_input: dict[str, object] = {
        "creditAmount": {
            "amount": from_minor(spec.amount_minor, spec.currency),
            "currencyCode": spec.currency,
        },
        "notify": False,  # Tastemaker's own email tells the shopper
    }
    if spec.expires_at is not None:
        credit_input["expiresAt"] = spec.expires_at.isoformat()
    data = client.execute(
        shop, token, CREDIT, {"id": owner, "creditInput": credit_input}, estimated_cost=10
    )
    payload = data.get("storeCreditAccountCredit") or {}
    errors = user_errors(payload)
    if errors:
        raise TerminalConnectorError(f"storeCreditAccountCredit refused: {describe(errors)}")
    transaction = payload.get("storeCreditAccountTransaction") or {}
    if not transaction.get("id"):
        raise TerminalConnectorError("storeCreditAccountCredit returned no transaction")
    return IssuedStoreCredit(platform_id=str(transaction["id"]))
