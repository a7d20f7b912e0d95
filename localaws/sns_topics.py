"""SNS subscriptions as AWS keeps them, where moto differs (moto-gaps.md §9): moto confirms every
subscription at once; on AWS an e-mail subscription waits for its owner to click the link in
the confirmation e-mail.

- A new `email` or `email-json` subscription is pending: Subscribe answers "pending confirmation"
  unless `ReturnSubscriptionArn` is true ("The ARN of the subscription if it is confirmed, or the
  string "pending confirmation" if the subscription requires confirmation",
  https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html), ListSubscriptions and
  ListSubscriptionsByTopic show its SubscriptionArn as `PendingConfirmation`, and
  GetSubscriptionAttributes says `PendingConfirmation` "true".
- It cannot be unsubscribed ("You can't delete a subscription that's pending confirmation",
  https://docs.aws.amazon.com/sns/latest/dg/sns-delete-subscription-topic.html): Unsubscribe of
  the `PendingConfirmation` a listing shows is refused as AWS refuses any non-ARN, with
  `InvalidParameter` "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6
  elements, not 1" (observed against AWS by ballerina-platform/module-ballerinax-aws.sns,
  unsubscribeWithInvalidArnTest). Unsubscribe of the real ARN of a pending subscription (only a
  client that asked for ReturnSubscriptionArn knows it) is not modelled: AWS's answer to it is
  not documented.
- GetTopicAttributes counts `SubscriptionsConfirmed` and `SubscriptionsPending` (moto: always 0).
- `GET /localaws/sns/confirm/<endpoint>` stands for the owner clicking the link: every pending
  subscription of that endpoint, in every account and region, is confirmed; it answers how many.
- `GET /localaws/sns/published/<topic ARN>` answers what the topic was sent (moto keeps every
  message published to a topic), oldest first, as JSON `[{"MessageId", "Subject", "Message"}]`:
  what a subscriber would have received, for a test to read without a subscriber of its own.

Not modelled: SNS deletes a subscription left unconfirmed for 48 hours.
"""

import json

from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend, Subscription, Topic, sns_backends
from moto.sns.responses import SNSResponse

from .wsgi import Locked, Response

# What a listing shows for a pending subscription's ARN, and what Subscribe answers.
LISTED_PENDING = "PendingConfirmation"
ANSWERED_PENDING = "pending confirmation"
# The protocols whose subscriptions a person confirms from a message.
CONFIRMED_BY_A_PERSON = ("email", "email-json")

_installed = False


def _subscriptions_of(topic, pending):
    return sum(
        1
        for s in topic.sns_backend.subscriptions.values()
        if s.topic is topic and getattr(s, "pending", False) == pending
    )


def _listed_arn(subscription):
    return LISTED_PENDING if getattr(subscription, "pending", False) else subscription.arn


def install():
    global _installed
    if _installed:
        return
    _installed = True
    # moto assigns 0 to both in Topic.__init__; the setters keep that from sticking.
    Topic.subscriptions_confimed = property(lambda t: _subscriptions_of(t, False), lambda t, v: None)
    Topic.subscriptions_pending = property(lambda t: _subscriptions_of(t, True), lambda t, v: None)
    # moto's serializer takes `subscription_arn` before `arn` for a listed subscription.
    Subscription.subscription_arn = property(_listed_arn)
    subscribe, unsubscribe = SNSBackend.subscribe, SNSBackend.unsubscribe
    answer_subscribe = SNSResponse.subscribe

    def subscribe_pending(self, topic_arn, endpoint, protocol):
        known = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = subscribe(self, topic_arn, endpoint, protocol)
        if known is None and protocol in CONFIRMED_BY_A_PERSON:
            with Locked.lock:
                subscription.pending = True
                subscription.attributes["PendingConfirmation"] = "true"
                subscription.attributes["ConfirmationWasAuthenticated"] = "false"
        return subscription

    def unsubscribe_confirmed(self, subscription_arn):
        elements = len(subscription_arn.split(":"))
        if elements < 6:
            raise SNSInvalidParameter(
                f"Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not {elements}"
            )
        return unsubscribe(self, subscription_arn)

    def answer_pending(self):
        result = answer_subscribe(self)
        arn = result.result["SubscriptionArn"]
        subscription = self.backend.subscriptions.get(arn)
        wants_arn = str(self._get_param("ReturnSubscriptionArn")).lower() == "true"
        if getattr(subscription, "pending", False) and not wants_arn:
            result.result["SubscriptionArn"] = ANSWERED_PENDING
        return result

    SNSBackend.subscribe = subscribe_pending
    SNSBackend.unsubscribe = unsubscribe_confirmed
    SNSResponse.subscribe = answer_pending


def _published(topic_arn):
    parts = topic_arn.split(":")
    with Locked.lock:
        topic = sns_backends[parts[4]][parts[3]].topics.get(topic_arn) if len(parts) == 6 else None
        if topic is None:
            return Response(404, [("Content-Type", "text/plain")], f"no topic {topic_arn}\n".encode())
        sent = [
            {"MessageId": message_id, "Subject": subject, "Message": message}
            for message_id, message, subject, *_ in topic.sent_notifications
        ]
    return Response(200, [("Content-Type", "application/json")], json.dumps(sent).encode())


def control(path):
    """`/localaws/sns/confirm/<endpoint>`: confirms that endpoint's pending subscriptions;
    `/localaws/sns/published/<topic ARN>`: what the topic was sent."""
    if path.startswith("/localaws/sns/published/"):
        return _published(path.split("/localaws/sns/published/", 1)[-1])
    endpoint = path.split("/localaws/sns/confirm/", 1)[-1]
    confirmed = 0
    with Locked.lock:
        for regions in sns_backends.values():
            for backend in regions.values():
                for subscription in backend.subscriptions.values():
                    if subscription.endpoint == endpoint and getattr(subscription, "pending", False):
                        subscription.pending = False
                        subscription.attributes["PendingConfirmation"] = "false"
                        confirmed += 1
    return Response(200, [("Content-Type", "text/plain")], str(confirmed).encode())
