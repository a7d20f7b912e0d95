"""KMS keys as AWS describes them: the keys an AWS service creates for itself in an account, named
by an `alias/aws/<service>` alias (`alias/aws/sns`, `alias/aws/dynamodb`, `alias/aws/ebs`), are AWS
managed keys, `KeyManager: AWS` in DescribeKey: "The alias/aws/ prefix is reserved for AWS managed
key" (https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html). moto creates them on
first use, as AWS does, but as customer keys; only AWS services (moto's own backends) can give a
key such an alias, so the alias marks the key."""

from moto.kms.models import KmsBackend

_installed = False


def install():
    global _installed
    if _installed:
        return
    _installed = True
    create_alias = KmsBackend.create_alias

    def create_aws_alias(self, target_key_id, alias_name):
        alias = create_alias(self, target_key_id, alias_name)
        if alias_name.startswith("alias/aws/"):
            self.keys[self.get_key_id(target_key_id)].key_manager = "AWS"
        return alias

    KmsBackend.create_alias = create_aws_alias
