"""Properties, owners and pipelines: the schema and reference data a connector reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handoff_sync.sandbox.core.http import Request, Response, Router
from handoff_sync.sandbox.hubspot.errors import bad_request, not_found
from handoff_sync.sandbox.hubspot.properties import PORTAL_CREATED_MS, PropertyDef
from handoff_sync.sandbox.hubspot.render import next_page
from handoff_sync.sandbox.hubspot.requests import flag, int_arg, json_body, path_type
from handoff_sync.sandbox.hubspot.schema import PIPELINES, HsPipeline, HsStage
from handoff_sync.sandbox.hubspot.time import iso_ms

if TYPE_CHECKING:
    from handoff_sync.sandbox.hubspot.api import HubSpotApi

PROPERTIES = "/crm/v3/properties/(?P<object_type>[^/]+)"
PIPELINE = "/crm/v3/pipelines/(?P<object_type>[^/]+)/(?P<pipeline_id>[^/]+)"
OWNERS_DEFAULT_LIMIT, OWNERS_MAX_LIMIT = 100, 500
WRITE_PERMISSIONS = "CRM_PERMISSIONS_ENFORCEMENT"


def stage_json(stage: HsStage) -> dict[str, Any]:
    return {
        "id": stage.id,
        "label": stage.label,
        "displayOrder": stage.display_order,
        "metadata": {"isClosed": str(stage.is_closed).lower(), "probability": stage.probability},
        "archived": False,
        "writePermissions": WRITE_PERMISSIONS,
        "createdAt": iso_ms(PORTAL_CREATED_MS),
        "updatedAt": iso_ms(PORTAL_CREATED_MS),
    }


def pipeline_json(pipeline: HsPipeline) -> dict[str, Any]:
    return {
        "id": pipeline.id,
        "label": pipeline.label,
        "displayOrder": pipeline.display_order,
        "archived": False,
        "createdAt": iso_ms(PORTAL_CREATED_MS),
        "updatedAt": iso_ms(PORTAL_CREATED_MS),
        "stages": [stage_json(s) for s in sorted(pipeline.stages, key=lambda s: s.display_order)],
    }


class MetadataEndpoints:
    def __init__(self, api: HubSpotApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        add = router.add
        add("hubspot", "GET", PROPERTIES, self.properties,
            "GET /crm/v3/properties/{objectType}")
        add("hubspot", "POST", PROPERTIES, self.create_property,
            "POST /crm/v3/properties/{objectType}")
        add("hubspot", "GET", PROPERTIES + "/(?P<name>[^/]+)", self.property,
            "GET /crm/v3/properties/{objectType}/{propertyName}")
        add("hubspot", "GET", "/crm/v3/owners/?", self.owners, "GET /crm/v3/owners/")
        add("hubspot", "GET", "/account-info/v3/details", self.account_details,
            "GET /account-info/v3/details")
        add("hubspot", "GET", "/crm/v3/owners/(?P<owner_id>[^/]+)", self.owner,
            "GET /crm/v3/owners/{ownerId}")
        add("hubspot", "GET", "/crm/v3/pipelines/(?P<object_type>[^/]+)", self.pipelines,
            "GET /crm/v3/pipelines/{objectType}")
        add("hubspot", "GET", PIPELINE, self.pipeline,
            "GET /crm/v3/pipelines/{objectType}/{pipelineId}")
        add("hubspot", "GET", PIPELINE + "/stages", self.stages,
            "GET /crm/v3/pipelines/{objectType}/{pipelineId}/stages")
        add("hubspot", "GET", PIPELINE + "/stages/(?P<stage_id>[^/]+)", self.stage,
            "GET /crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}")

    # --- properties ---------------------------------------------------------------------
    def _property_json(self, prop: PropertyDef, *, archived: bool = False) -> dict[str, Any]:
        return prop.to_json(self.store.option_pairs(prop), archived=archived)

    def properties(self, request: Request) -> Response:
        """The live definitions, or with ``archived=true`` those in the recycle bin (the
        ones the schema overlay archived)."""
        object_type = path_type(request)
        wanted = set(request.args("properties"))
        archived = flag(request, "archived")
        registry = self.store.properties
        found = registry.archived(object_type) if archived else registry.all(object_type)
        results = [self._property_json(p, archived=archived) for p in found
                   if not wanted or p.name in wanted]
        return Response.json(200, {"results": results})

    def property(self, request: Request) -> Response:
        object_type = path_type(request)
        name = request.params["name"]
        if flag(request, "archived"):
            for prop in self.store.properties.archived(object_type):
                if prop.name == name:
                    return Response.json(200, self._property_json(prop, archived=True))
        prop = self.store.properties.require(object_type, name)
        return Response.json(200, self._property_json(prop))

    def create_property(self, request: Request) -> Response:
        object_type = path_type(request)
        created = self.store.properties.create(object_type, json_body(request),
                                               self.api.now_ms())
        return Response.json(201, self._property_json(created))

    # --- the account ------------------------------------------------------------------
    def account_details(self, _: Request) -> Response:
        """GET /account-info/v3/details: which portal this is (connectors key their
        shared API budget by it)."""
        return Response.json(200, {
            "portalId": self.api.sandbox.credentials.hs_portal_id, "accountType": "STANDARD",
            "timeZone": "US/Eastern", "companyCurrency": "USD", "additionalCurrencies": [],
            "utcOffset": "-05:00", "utcOffsetMilliseconds": -18_000_000,
            "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"})

    # --- owners -------------------------------------------------------------------------
    def owners(self, request: Request) -> Response:
        """Owners in id order; ``after`` is an offset into the filtered list."""
        limit = int_arg(request, "limit", OWNERS_DEFAULT_LIMIT, 1, OWNERS_MAX_LIMIT)
        offset = int_arg(request, "after", 0, 0, 2**31)
        selected = self.store.owners.select(email=request.arg("email"),
                                            archived=flag(request, "archived"))
        body: dict[str, Any] = {"results": selected[offset:offset + limit]}
        if offset + limit < len(selected):
            after = str(offset + limit)
            link = f"{self.api.base_url}/crm/v3/owners/?limit={limit}&after={after}"
            body["paging"] = next_page(after, link)
        return Response.json(200, body)

    def owner(self, request: Request) -> Response:
        id_property = request.arg("idProperty") or "id"
        if id_property not in ("id", "userId"):
            raise bad_request(f"idProperty must be id or userId; got {id_property!r}.")
        owner_id = request.params["owner_id"]
        found = self.store.owners.find(owner_id, by_user_id=id_property == "userId",
                                       archived=flag(request, "archived"))
        if found is None:
            raise not_found(f"Owner {owner_id} ({id_property}) does not exist.",
                            context={"ownerId": [owner_id]})
        return Response.json(200, found)

    # --- pipelines ----------------------------------------------------------------------
    def _pipeline(self, request: Request) -> HsPipeline:
        object_type = path_type(request)
        pipeline_id = request.params["pipeline_id"]
        for pipeline in PIPELINES.get(object_type, ()):
            if pipeline.id == pipeline_id:
                return pipeline
        raise not_found(f"Unable to find pipeline {pipeline_id} for {object_type}.",
                        context={"pipelineId": [pipeline_id]})

    def pipelines(self, request: Request) -> Response:
        found = PIPELINES.get(path_type(request), ())
        ordered = sorted(found, key=lambda p: p.display_order)
        return Response.json(200, {"results": [pipeline_json(p) for p in ordered]})

    def pipeline(self, request: Request) -> Response:
        return Response.json(200, pipeline_json(self._pipeline(request)))

    def stages(self, request: Request) -> Response:
        return Response.json(200, {"results": pipeline_json(self._pipeline(request))["stages"]})

    def stage(self, request: Request) -> Response:
        pipeline = self._pipeline(request)
        stage_id = request.params["stage_id"]
        for stage in pipeline.stages:
            if stage.id == stage_id:
                return Response.json(200, stage_json(stage))
        raise not_found(f"Unable to find stage {stage_id} in pipeline {pipeline.id}.",
                        context={"stageId": [stage_id]})
