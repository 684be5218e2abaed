"""Organisation settings endpoints (§6)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from leadflow.api.deps import CurrentActor, ExpectedVersion, ReadUowDep, UowDep
from leadflow.organisation.schemas import (
    DuplicateDetectionSettings,
    DuplicateDetectionSettingsChange,
    DuplicateDetectionSettingsOut,
    QualificationSettings,
    QualificationSettingsChange,
    QualificationSettingsOut,
)
from leadflow.organisation.service import read_settings, update_settings

router = APIRouter(prefix="/settings", tags=["settings"])


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
    settings = update_settings(data.model_dump(), uow=uow, actor=actor, expected_version=version)
    uow.commit()
    response.headers["ETag"] = settings.etag
    return QualificationSettingsOut.model_validate(settings)


@router.patch("/qualification")
def change_qualification_settings(
    data: QualificationSettingsChange, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> QualificationSettingsOut:
    """Change only the qualification settings sent; the others stay."""
    settings = update_settings(data.model_dump(exclude_unset=True), uow=uow, actor=actor, expected_version=version)
    uow.commit()
    response.headers["ETag"] = settings.etag
    return QualificationSettingsOut.model_validate(settings)


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
    settings = update_settings(data.model_dump(), uow=uow, actor=actor, expected_version=version)
    uow.commit()
    response.headers["ETag"] = settings.etag
    return DuplicateDetectionSettingsOut.model_validate(settings)


@router.patch("/duplicate-detection")
def change_duplicate_settings(
    data: DuplicateDetectionSettingsChange, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> DuplicateDetectionSettingsOut:
    """Change only the duplicate detection settings sent; the others stay (administrators)."""
    settings = update_settings(data.model_dump(exclude_unset=True), uow=uow, actor=actor, expected_version=version)
    uow.commit()
    response.headers["ETag"] = settings.etag
    return DuplicateDetectionSettingsOut.model_validate(settings)
