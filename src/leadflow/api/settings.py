"""Organisation settings endpoints (§6)."""

from __future__ import annotations

from typing import TypeVar

from fastapi import APIRouter, Response

from leadflow.api.deps import CurrentActor, ExpectedVersion, ReadUowDep, UowDep
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.schemas import (
    DuplicateDetectionSettings,
    DuplicateDetectionSettingsChange,
    DuplicateDetectionSettingsOut,
    QualificationSettings,
    QualificationSettingsChange,
    QualificationSettingsOut,
    RegionalSettings,
    RegionalSettingsChange,
    RegionalSettingsOut,
)
from leadflow.organisation.service import read_settings, update_settings
from leadflow.security.actor import Actor

router = APIRouter(prefix="/settings", tags=["settings"])

SettingsOut = TypeVar("SettingsOut", QualificationSettingsOut, DuplicateDetectionSettingsOut, RegionalSettingsOut)


def _save(
    changes: dict[str, object],
    uow: UnitOfWork,
    actor: Actor,
    version: int | None,
    response: Response,
    shape: type[SettingsOut],
) -> SettingsOut:
    """Write the changed settings, commit, and answer them in ``shape`` with their new ETag."""
    settings = update_settings(changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    response.headers["ETag"] = settings.etag
    return shape.model_validate(settings)


@router.get("/qualification")
def read_qualification_settings(uow: ReadUowDep, actor: CurrentActor, response: Response) -> QualificationSettingsOut:
    """The qualification settings: legacy switch or per-record Automatic / Seller choices."""
    settings = read_settings(uow=uow, actor=actor)
    response.headers["ETag"] = settings.etag
    return QualificationSettingsOut.model_validate(settings)


@router.put("/qualification")
def replace_qualification_settings(
    data: QualificationSettings, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> QualificationSettingsOut:
    """Replace the qualification settings."""
    return _save(data.model_dump(), uow, actor, version, response, QualificationSettingsOut)


@router.patch("/qualification")
def change_qualification_settings(
    data: QualificationSettingsChange, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> QualificationSettingsOut:
    """Change only the qualification settings sent; the others stay."""
    return _save(data.model_dump(exclude_unset=True), uow, actor, version, response, QualificationSettingsOut)


@router.get("/duplicate-detection")
def read_duplicate_settings(uow: ReadUowDep, actor: CurrentActor, response: Response) -> DuplicateDetectionSettingsOut:
    """Duplicate detection on/off (globally and per table) and the classic or enhanced warning."""
    settings = read_settings(uow=uow, actor=actor)
    response.headers["ETag"] = settings.etag
    return DuplicateDetectionSettingsOut.model_validate(settings)


@router.put("/duplicate-detection")
def replace_duplicate_settings(
    data: DuplicateDetectionSettings, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> DuplicateDetectionSettingsOut:
    """Replace the duplicate detection settings (administrators)."""
    return _save(data.model_dump(), uow, actor, version, response, DuplicateDetectionSettingsOut)


@router.patch("/duplicate-detection")
def change_duplicate_settings(
    data: DuplicateDetectionSettingsChange,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> DuplicateDetectionSettingsOut:
    """Change only the duplicate detection settings sent; the others stay (administrators)."""
    return _save(data.model_dump(exclude_unset=True), uow, actor, version, response, DuplicateDetectionSettingsOut)


@router.get("/regional")
def read_regional_settings(uow: ReadUowDep, actor: CurrentActor, response: Response) -> RegionalSettingsOut:
    """The organisation's default time zone (an IANA name), for users who chose none of their own."""
    settings = read_settings(uow=uow, actor=actor)
    response.headers["ETag"] = settings.etag
    return RegionalSettingsOut.model_validate(settings)


@router.put("/regional")
def replace_regional_settings(
    data: RegionalSettings, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> RegionalSettingsOut:
    """Replace the regional settings (administrators); an unknown time zone is refused (422)."""
    return _save(data.model_dump(), uow, actor, version, response, RegionalSettingsOut)


@router.patch("/regional")
def change_regional_settings(
    data: RegionalSettingsChange, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> RegionalSettingsOut:
    """Change only the regional settings sent; the others stay (administrators)."""
    return _save(data.model_dump(exclude_unset=True), uow, actor, version, response, RegionalSettingsOut)
