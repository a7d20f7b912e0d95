"""RemoveRoleFromInstanceProfile of a role the profile does not hold is `NoSuchEntity`, as every
missing entity of that call is ("The request was rejected because it referenced a resource
entity that does not exist", https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveRoleFromInstanceProfile.html;
crossplane-contrib/provider-aws#1719 treats it so while detaching; the code is AWS's, the text
ours, as no source quotes AWS's). moto answers an HTML 500
(`list.remove(x): x not in list`): a teardown resumed after the role was never added crashed."""

from moto.iam.exceptions import NoSuchEntity
from moto.iam.models import IAMBackend

_installed = False


def install():
    global _installed
    if _installed:
        return
    _installed = True
    remove = IAMBackend.remove_role_from_instance_profile

    def remove_role_from_instance_profile(self, profile_name, role_name):
        profile = self.get_instance_profile(profile_name)
        role = self.get_role(role_name)
        if role not in profile.roles:
            raise NoSuchEntity(
                f"The role with name {role_name} cannot be found in instance profile {profile_name}."
            )
        return remove(self, profile_name, role_name)

    IAMBackend.remove_role_from_instance_profile = remove_role_from_instance_profile
