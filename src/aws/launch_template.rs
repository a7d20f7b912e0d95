//! The instances' launch template: AMI, instance type, IMDSv2 required, encrypted root volume,
//! instance profile, user data. A change is a new version made default, never a new template.

use aws_sdk_ec2::types::{
    InstanceType, LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateTagSpecificationRequest,
    RequestLaunchTemplateData, ResourceType, VolumeType,
};
use aws_sdk_ec2::Client;
use aws_smithy_types::base64;

use super::ec2::{client_token, ec2_tags, filter, tag_spec};
use super::error::{found, ignore_not_found, AwsError, Cause, Context, PartError, PartResult};
use crate::tags::Tags;

pub const ROOT_DEVICE: &str = "/dev/xvda";
const ROOT_VOLUME_GIB: i32 = 20;

pub struct TemplateSpec<'a> {
    pub name: &'a str,
    pub ami: &'a str,
    pub instance_type: &'a str,
    pub instance_profile_arn: &'a str,
    pub security_group: &'a str,
    pub user_data: &'a str,
    pub tags: &'a Tags,
}

/// The newest Amazon Linux 2023 AMI of the region for `instance_type`'s architecture
/// (DescribeInstanceTypes' `ProcessorInfo.SupportedArchitectures`,
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ProcessorInfo.html): Graviton types
/// (t4g, m7g, ...) run only arm64 images, and EC2 refuses the other ("The architecture 'arm64' of
/// the specified instance type does not match the architecture 'x86_64' of the specified AMI",
/// skypilot-org/skypilot#6315). AL2023's public images are named per architecture,
/// `al2023-ami-2023.<version>-kernel-<kernel>-<arch>`, the ones AWS's public SSM parameters
/// `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-*-<arch>` point at.
///
/// The image of `template`'s default version is kept when it runs on `instance_type`: a change of
/// instance type within an architecture does not also change the image, one across
/// architectures does (the old image could not launch).
pub async fn amazon_linux_for(
    ec2: &Client,
    template: &str,
    instance_type: &str,
) -> PartResult<String> {
    let action = || format!("looking up the latest Amazon Linux 2023 AMI for {instance_type}");
    let (arch, current) = tokio::try_join!(
        architecture(ec2, instance_type),
        current_image_architecture(ec2, template),
    )
    .context(action)?;
    let arch = image_architecture(&arch).ok_or_else(|| PartError {
        action: action(),
        cause: Cause::Unexpected(format!(
            "{instance_type} runs {} images, and Amazon Linux 2023 is published for x86_64 and arm64 only; set ami_id",
            if arch.is_empty() { "no listed".to_owned() } else { arch.join(", ") }
        )),
    })?;
    if let Some((image, _)) = current.filter(|(_, current)| current == arch) {
        return Ok(image);
    }
    let name = format!("al2023-ami-2023*-{arch}");
    let out = ec2
        .describe_images()
        .owners("amazon")
        .filters(filter("name", &name))
        .filters(filter("architecture", arch))
        .filters(filter("state", "available"))
        .send()
        .await
        .context(action)?;
    out.images()
        .iter()
        .max_by_key(|i| {
            (
                i.creation_date().unwrap_or_default().to_owned(),
                i.name().unwrap_or_default().to_owned(),
            )
        })
        .and_then(|i| i.image_id())
        .map(str::to_owned)
        .ok_or_else(|| PartError {
            action: action(),
            cause: Cause::Unexpected(format!(
                "no AMI matches {name} owned by amazon in this region; set ami_id"
            )),
        })
}

/// The architectures `instance_type` runs (DescribeInstanceTypes' `SupportedArchitectures`).
async fn architecture(ec2: &Client, instance_type: &str) -> Result<Vec<String>, AwsError> {
    let out = ec2
        .describe_instance_types()
        .instance_types(InstanceType::from(instance_type))
        .send()
        .await?;
    Ok(out
        .instance_types()
        .iter()
        .filter_map(|t| t.processor_info())
        .flat_map(|p| p.supported_architectures())
        .map(|a| a.as_str().to_owned())
        .collect())
}

/// The image of `template`'s default version and that image's architecture, if both exist.
async fn current_image_architecture(
    ec2: &Client,
    template: &str,
) -> Result<Option<(String, String)>, AwsError> {
    let Some(image) = find(ec2, template).await?.and_then(|t| t.image_id) else {
        return Ok(None);
    };
    // A deregistered image is one to replace, not an error.
    let Some(out) = found(ec2.describe_images().image_ids(&image).send().await)? else {
        return Ok(None);
    };
    Ok(out
        .images()
        .first()
        .and_then(|i| i.architecture())
        .map(|arch| (image, arch.as_str().to_owned())))
}

/// The AL2023 image architecture for a type that runs `supported`: x86_64 where it runs, else
/// arm64; none for the Mac types (`x86_64_mac`, `arm64_mac`).
fn image_architecture(supported: &[String]) -> Option<&'static str> {
    ["x86_64", "arm64"]
        .into_iter()
        .find(|arch| supported.iter().any(|s| s == arch))
}

fn data(spec: &TemplateSpec<'_>) -> RequestLaunchTemplateData {
    let instance_tags = |kind| {
        LaunchTemplateTagSpecificationRequest::builder()
            .resource_type(kind)
            .set_tags(Some(ec2_tags(spec.tags)))
            .build()
    };
    RequestLaunchTemplateData::builder()
        .image_id(spec.ami)
        .instance_type(spec.instance_type.into())
        .iam_instance_profile(
            LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .arn(spec.instance_profile_arn)
                .build(),
        )
        .security_group_ids(spec.security_group)
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .http_put_response_hop_limit(1)
                .build(),
        )
        .block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name(ROOT_DEVICE)
                .ebs(
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .encrypted(true)
                        .volume_size(ROOT_VOLUME_GIB)
                        .volume_type(VolumeType::Gp3)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .user_data(base64::encode(spec.user_data))
        .tag_specifications(instance_tags(ResourceType::Instance))
        .tag_specifications(instance_tags(ResourceType::Volume))
        .build()
}

/// Ensures the template exists with these settings; returns its id and default version.
pub async fn ensure(ec2: &Client, spec: &TemplateSpec<'_>) -> PartResult<(String, i64)> {
    let name = spec.name;
    let found = ec2
        .describe_launch_templates()
        .launch_template_names(name)
        .send()
        .await;
    let existing = match found.map_err(AwsError::from) {
        Ok(out) => out.launch_templates().first().cloned(),
        Err(err) if err.is_not_found() => None,
        Err(err) => return Err(err).context(|| format!("reading launch template {name}")),
    };
    let Some(template) = existing else {
        tracing::info!("creating launch template {name}");
        let out = ec2
            .create_launch_template()
            .launch_template_name(name)
            .launch_template_data(data(spec))
            .tag_specifications(tag_spec(ResourceType::LaunchTemplate, spec.tags))
            .send()
            .await
            .context(|| format!("creating launch template {name}"))?;
        let id = out
            .launch_template()
            .and_then(|t| t.launch_template_id())
            .unwrap_or_default();
        return Ok((id.to_owned(), 1));
    };
    let id = template.launch_template_id().unwrap_or_default().to_owned();
    let default = template.default_version_number().unwrap_or(1);
    let latest = template.latest_version_number().unwrap_or(default);
    if version_matches(ec2, &id, default, spec).await? {
        return Ok((id, default));
    }
    // A newer version with these settings is one a lost CreateLaunchTemplateVersion answer made:
    // it is adopted, not made again.
    let number = if latest != default && version_matches(ec2, &id, latest, spec).await? {
        latest
    } else {
        tracing::info!("creating a new version of launch template {name}");
        let out = ec2
            .create_launch_template_version()
            .launch_template_id(&id)
            .launch_template_data(data(spec))
            .client_token(client_token(&id, &format!("v{}", latest + 1)))
            .send()
            .await
            .context(|| format!("creating a version of launch template {name}"))?;
        out.launch_template_version()
            .and_then(|v| v.version_number())
            .unwrap_or(1)
    };
    ec2.modify_launch_template()
        .launch_template_id(&id)
        .default_version(number.to_string())
        .client_token(client_token(&id, &format!("default-v{number}")))
        .send()
        .await
        .context(|| format!("making version {number} of launch template {name} the default"))?;
    Ok((id, number))
}

/// Whether version `number` of the template holds the settings of `spec`.
async fn version_matches(
    ec2: &Client,
    id: &str,
    number: i64,
    spec: &TemplateSpec<'_>,
) -> PartResult<bool> {
    let found = ec2
        .describe_launch_template_versions()
        .launch_template_id(id)
        .versions(number.to_string())
        .send()
        .await
        .context(|| format!("reading version {number} of launch template {}", spec.name))?;
    let have = found
        .launch_template_versions()
        .first()
        .and_then(|v| v.launch_template_data());
    Ok(have.is_some_and(|d| {
        d.image_id() == Some(spec.ami)
            && d.instance_type().map(|t| t.as_str()) == Some(spec.instance_type)
            && d.user_data() == Some(base64::encode(spec.user_data).as_str())
            && d.iam_instance_profile().and_then(|p| p.arn()) == Some(spec.instance_profile_arn)
            && d.security_group_ids() == [spec.security_group.to_owned()]
            && d.metadata_options()
                .and_then(|m| m.http_tokens())
                .map(|t| t.as_str())
                == Some("required")
    }))
}

/// What the template's default version holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateFacts {
    pub id: String,
    pub version: i64,
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    /// Decoded from base64.
    pub user_data: Option<String>,
}

pub async fn find(ec2: &Client, name: &str) -> Result<Option<TemplateFacts>, AwsError> {
    let out = match ec2
        .describe_launch_template_versions()
        .launch_template_name(name)
        .versions("$Default")
        .send()
        .await
        .map_err(AwsError::from)
    {
        Ok(out) => out,
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err),
    };
    Ok(out.launch_template_versions().first().map(|v| {
        let data = v.launch_template_data();
        TemplateFacts {
            id: v.launch_template_id().unwrap_or_default().to_owned(),
            version: v.version_number().unwrap_or(1),
            image_id: data.and_then(|d| d.image_id()).map(str::to_owned),
            instance_type: data
                .and_then(|d| d.instance_type())
                .map(|t| t.as_str().to_owned()),
            user_data: data
                .and_then(|d| d.user_data())
                .and_then(|u| base64::decode(u).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok()),
        }
    }))
}

pub async fn delete(ec2: &Client, name: &str) -> PartResult<()> {
    tracing::info!("deleting launch template {name}");
    match ec2
        .delete_launch_template()
        .launch_template_name(name)
        .send()
        .await
        .map_err(AwsError::from)
    {
        Err(err) if err.is_not_found() => Ok(()),
        other => ignore_not_found(other).context(|| format!("deleting launch template {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_follows_the_types_architecture() {
        let archs = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(image_architecture(&archs(&["x86_64"])), Some("x86_64"));
        assert_eq!(image_architecture(&archs(&["arm64"])), Some("arm64"));
        // t2.micro runs both 32- and 64-bit x86.
        assert_eq!(
            image_architecture(&archs(&["i386", "x86_64"])),
            Some("x86_64")
        );
        assert_eq!(image_architecture(&archs(&["arm64_mac"])), None);
        assert_eq!(image_architecture(&[]), None);
    }
}
