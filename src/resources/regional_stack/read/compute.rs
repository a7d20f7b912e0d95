//! The stack's compute as AWS holds it: the launch template, the Auto Scaling group and its
//! policy, the instance profile.

use aws_sdk_autoscaling::types::AutoScalingGroup;

use super::super::desired::Desired;
use super::super::schema::State;
use crate::aws::error::{Context, PartResult};
use crate::aws::{auto_scaling, instance_role, launch_template};
use crate::configured::Configured;
use crate::naming;
use crate::tf::number::Number;
use crate::tf::values;

pub struct Compute {
    template: Option<launch_template::TemplateFacts>,
    group: Option<AutoScalingGroup>,
    cpu_target: Option<f64>,
    profile: Option<String>,
}

impl Compute {
    pub async fn read(cfg: &Configured, want: &Desired) -> PartResult<Compute> {
        let read = || super::action(want);
        let clients = cfg.clients.regional(&want.region);
        let (template, group, cpu_target, profile) = tokio::try_join!(
            async {
                launch_template::find(&clients.ec2, &want.name(naming::LAUNCH_TEMPLATE))
                    .await
                    .context(read)
            },
            async {
                auto_scaling::find(&clients.autoscaling, &want.name(naming::AUTO_SCALING_GROUP))
                    .await
                    .context(read)
            },
            async {
                auto_scaling::cpu_target(
                    &clients.autoscaling,
                    &want.name(naming::AUTO_SCALING_GROUP),
                    &want.name(naming::CPU_POLICY),
                )
                .await
                .context(read)
            },
            async {
                match &want.instance_role_name {
                    Some(role) => instance_role::find_profile(&cfg.clients.iam, role)
                        .await
                        .context(read),
                    None => Ok(want.instance_profile_arn.clone()),
                }
            },
        )?;
        Ok(Compute {
            template,
            group,
            cpu_target,
            profile,
        })
    }

    /// The capacity the group runs now, if there is a group.
    pub fn running(&self) -> Option<i32> {
        self.group.as_ref()?.desired_capacity()
    }

    /// IDs, limits, and the settings changed outside Terraform (AMI, instance type, user data,
    /// scaling policy), as AWS holds them.
    pub fn record(self, state: &mut State) {
        let template = self.template.as_ref();
        state.launch_template_id =
            values::string(template.map(|t| t.id.clone()).unwrap_or_default());
        state.launch_template_version = template.map(|t| Number(t.version as f64)).into();
        if let Some(template) = template {
            state.ami_id = template.image_id.clone().into();
            state.instance_type = template.instance_type.clone().into();
        } else if state.ami_id.is_unknown() {
            state.ami_id = values::string("");
        }
        state.asg_name = values::string(
            self.group
                .as_ref()
                .and_then(|g| g.auto_scaling_group_name())
                .unwrap_or_default(),
        );
        if let Some(group) = &self.group {
            // Limits changed outside Terraform show in the plan. The desired capacity is the one
            // the configuration last set: the scaling policy moves the live one, which is not
            // drift.
            state.min_size = group.min_size().map(|n| Number(n as f64)).into();
            state.max_size = group.max_size().map(|n| Number(n as f64)).into();
            state.desired_capacity = auto_scaling::configured_desired(group)
                .or(group.desired_capacity())
                .map(|n| Number(n as f64))
                .into();
            // A policy deleted out of band reads as no target, which the plan shows.
            state.cpu_target = self.cpu_target.map(Number).into();
        }
        state.instance_profile_arn = values::string(self.profile.unwrap_or_default());
        if let Some(user_data) = template.and_then(|t| t.user_data.clone()) {
            state.user_data = values::string(user_data);
        }
    }
}
