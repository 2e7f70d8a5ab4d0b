"""Merge the feature branches of the schema that were built side by side from 0005

Revision ID: 0007_merge_features
Revises: 0006_child_safety, 0006_cybertip_details, 0006_evidence, 0006_hash_bank, 0006_reviewer
"""

revision = "0007_merge_features"
down_revision = (
    "0006_child_safety",
    "0006_cybertip_details",
    "0006_evidence",
    "0006_hash_bank",
    "0006_reviewer",
)
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
