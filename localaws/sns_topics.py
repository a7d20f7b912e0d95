"""SNS topic attributes as AWS reports them, where moto differs: `SubscriptionsConfirmed` and
`SubscriptionsPending` count the topic's subscriptions (moto always says 0). moto lists every
subscription with its ARN, i.e. as confirmed, so they count as confirmed here too."""

from moto.sns.models import Topic

_installed = False


def _confirmed(topic):
    return sum(1 for s in topic.sns_backend.subscriptions.values() if s.topic is topic)


def install():
    global _installed
    if _installed:
        return
    _installed = True
    # moto assigns 0 to both in Topic.__init__; the setters keep that from sticking.
    Topic.subscriptions_confimed = property(_confirmed, lambda self, value: None)
    Topic.subscriptions_pending = property(lambda self: 0, lambda self, value: None)
