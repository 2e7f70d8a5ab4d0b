from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db


class Policy(db.Model):
    """A node of the policy tree, e.g. Child safety → CSAM."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    # One of console.ncmec.constants.IncidentType's values; preselects the picker and drives AI filing.
    ncmec_incident_type: Mapped[str | None] = mapped_column(String(120))
    # NCMEC's report annotations (ReportAnnotation values, e.g. "sextortion") preselected in the dialog and
    # sent by the automatic flow; a sub-policy without its own inherits its parent's.
    ncmec_report_annotations: Mapped[list | None] = mapped_column(JSON)

    # Set by admins: a case alleged or confirmed under this policy, or any sub-policy below it, is
    # child-safety material (console/childsafety/access.py).
    child_safety: Mapped[bool] = mapped_column(default=False, server_default=false())

    parent: Mapped[Policy | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Policy]] = relationship(back_populates="parent", order_by="Policy.name")

    def __repr__(self) -> str:
        return f"<Policy {self.slug}>"
