# <region>/<environment_suffix>/<role>
terraform import tap_regional_stack.primary us-east-1/prod/primary
