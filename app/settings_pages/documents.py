"""The GraphQL documents the settings pages run: the same fields any panel client uses."""

from __future__ import annotations

# Every refusal a mutation answers: the contract's code and message, and where the input broke a rule.
_REFUSAL = "fragment Refusal on MutationError { __typename code message ... on ValidationError { fields { field issue } } }"  # noqa: E501

_TOKEN = "id name preset prefix createdAt expiresAt lastUsedAt"
_ENDPOINT = "id url description eventTypes status disabledReason failingSince createdAt updatedAt"
_DELIVERY = (
    "id eventId eventType attempt status trigger dueAt sentAt responseStatus responseExcerpt error "
    "durationMs nextAttemptAt createdAt"
)


def _with_refusal(document: str) -> str:
    return f"{document}\n{_REFUSAL}"


API_PAGE = f"""query SettingsApi($after: String) {{
  me {{ name role company {{ name creditsRemaining }} }}
  apiTokens(first: 50, after: $after) {{
    totalCount nodes {{ {_TOKEN} }} pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

CREATE_TOKEN = _with_refusal(f"""mutation CreateApiToken($input: CreateApiTokenInput!) {{
  createApiToken(input: $input) {{ __typename ... on CreatedApiToken {{ {_TOKEN} token }} ...Refusal }}
}}""")

TOKEN = f"""query SettingsApiToken($id: ID!) {{
  node(id: $id) {{ __typename ... on ApiToken {{ {_TOKEN} }} }}
}}"""

DELETE_TOKEN = _with_refusal("""mutation DeleteApiToken($id: UUID!) {
  deleteApiToken(id: $id) { __typename ... on Deleted { id } ...Refusal }
}""")

WEBHOOKS_PAGE = f"""query SettingsWebhooks($after: String) {{
  me {{ name role company {{ name }} }}
  webhookEventTypes
  webhookEndpoints(first: 50, after: $after) {{
    nodes {{ {_ENDPOINT} }} pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

ENDPOINT_PAGE = f"""query SettingsWebhook(
  $id: UUID!, $status: [DeliveryStatus!], $eventType: String, $after: String
) {{
  me {{ name role company {{ name }} }}
  webhookEventTypes
  webhookEndpoint(id: $id) {{
    {_ENDPOINT}
    deliveries(first: 25, after: $after, status: $status, eventType: $eventType) {{
      nodes {{ {_DELIVERY} }} pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}"""

CREATE_ENDPOINT = _with_refusal(f"""mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{
    __typename ... on WebhookEndpointWithSecret {{ {_ENDPOINT} secret }} ...Refusal
  }}
}}""")

UPDATE_ENDPOINT = _with_refusal(f"""mutation UpdateWebhookEndpoint(
  $id: UUID!, $input: UpdateWebhookEndpointInput!
) {{
  updateWebhookEndpoint(id: $id, input: $input) {{
    __typename ... on WebhookEndpoint {{ {_ENDPOINT} }} ...Refusal
  }}
}}""")

ROTATE_SECRET = _with_refusal(f"""mutation RotateWebhookSecret($id: UUID!, $overlapHours: Int!) {{
  rotateWebhookSecret(id: $id, overlapHours: $overlapHours) {{
    __typename ... on WebhookEndpointWithSecret {{ {_ENDPOINT} secret }} ...Refusal
  }}
}}""")

DELETE_ENDPOINT = _with_refusal("""mutation DeleteWebhookEndpoint($id: UUID!) {
  deleteWebhookEndpoint(id: $id) { __typename ... on Deleted { id } ...Refusal }
}""")

SEND_TEST = _with_refusal(f"""mutation SendWebhookTest($endpointId: UUID!) {{
  sendWebhookTest(endpointId: $endpointId) {{
    __typename ... on WebhookDelivery {{ {_DELIVERY} }} ...Refusal
  }}
}}""")

REDELIVER = _with_refusal(f"""mutation RedeliverWebhook($endpointId: UUID!, $deliveryId: UUID!) {{
  redeliverWebhook(endpointId: $endpointId, deliveryId: $deliveryId) {{
    __typename ... on WebhookDelivery {{ {_DELIVERY} }} ...Refusal
  }}
}}""")

REPLAY = _with_refusal("""mutation ReplayWebhookEvents(
  $endpointId: UUID!, $input: ReplayWebhookEventsInput!
) {
  replayWebhookEvents(endpointId: $endpointId, input: $input) {
    __typename ... on ReplayResult { queued } ...Refusal
  }
}""")
