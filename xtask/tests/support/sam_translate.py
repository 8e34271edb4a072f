#!/usr/bin/env python3
"""Offline SAM -> CloudFormation: aws-sam-translator's transform() with a stub policy loader.

Usage: translate.py SAM_TEMPLATE(.json|.yaml) OUT.json [REGION]
moto does not expand `Transform: AWS::Serverless-2016-10-31`, so the SAM template is expanded
here and the plain CloudFormation result goes through `aws cloudformation package/deploy`.
No AWS call: managed policy names resolve from the translator's bundled map; anything else fails.
"""
import json
import os
import sys

import yaml  # PyYAML: a dependency of awscli and cfn-lint
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.transform import transform


class OfflinePolicyLoader:
    """Stands in for ManagedPolicyLoader (which lists policies through IAM)."""

    def load(self):
        return {}


def main():
    src, out = sys.argv[1], sys.argv[2]
    region = sys.argv[3] if len(sys.argv) > 3 else "us-east-1"
    # Only read locally (boto3 Session() takes the region from the environment); no AWS call.
    os.environ["AWS_DEFAULT_REGION"] = region
    ArnGenerator.BOTO_SESSION_REGION_NAME = region
    with open(src, encoding="utf-8") as f:
        template = yaml.safe_load(f)  # JSON is YAML
    cfn = transform(template, {}, OfflinePolicyLoader())
    with open(out, "w", encoding="utf-8") as f:
        json.dump(cfn, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
