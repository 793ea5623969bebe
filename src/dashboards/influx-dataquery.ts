// Grafana's InfluxDB (InfluxQL) query model, which the foundation SDK does not ship: a panel target
// `{ refId, datasource, query, rawQuery: true, resultFormat }`, the same object as an annotation
// target (plus `fromAnnotations` and the text/tags/title columns Grafana's InfluxDB annotation
// support reads), and the query variables the dashboards share. Panels point at the data source
// through the `$datasource` variable, so an imported dashboard can be aimed at any InfluxDB data
// source; provisioning creates one with uid `proctor-influxdb`.
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import type * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { showTagValues, type Condition, type SelectQuery } from "./influxql.js";

export const DATASOURCE_UID = "proctor-influxdb";
export const DATASOURCE_NAME = "proctor-influxdb";
export const DATASOURCE_VAR = "datasource";
export const datasourceRef: common.DataSourceRef = { type: "influxdb", uid: `\${${DATASOURCE_VAR}}` };

export type InfluxResultFormat = "time_series" | "table";

/** The JSON Grafana stores for an InfluxQL target. */
export type InfluxQLTarget = {
  refId: string;
  datasource: common.DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: InfluxResultFormat;
  alias?: string;
  fromAnnotations?: true;
  textColumn?: string;
  tagsColumn?: string;
  titleColumn?: string;
};

export class InfluxQLTargetBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: InfluxQLTarget;

  constructor(query: SelectQuery | string, refId = "A") {
    this.internal = { refId, datasource: datasourceRef, query: String(query), rawQuery: true, resultFormat: "time_series" };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }
  /** Series name; Grafana expands `$tag_<key>` and `$col`. */
  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }
  table(): this {
    this.internal.resultFormat = "table";
    return this;
  }
  /** Annotation columns: `text` and `title` name one column each, `tags` a comma-separated list. */
  annotation(cols: { text?: string; tags?: readonly string[]; title?: string }): this {
    this.internal.fromAnnotations = true;
    this.internal.resultFormat = "table";
    if (cols.text !== undefined) this.internal.textColumn = cols.text;
    if (cols.tags !== undefined) this.internal.tagsColumn = cols.tags.join(",");
    if (cols.title !== undefined) this.internal.titleColumn = cols.title;
    return this;
  }

  build(): cog.Dataquery {
    // The SDK's variant marker is a method: JSON.stringify leaves it out, as it does for its own queries.
    return { ...this.internal, _implementsDataqueryVariant: () => undefined };
  }
}

export function target(query: SelectQuery | string, refId = "A"): InfluxQLTargetBuilder {
  return new InfluxQLTargetBuilder(query, refId);
}

/** Letters A, B, C… as refIds, in order (a panel's targets need distinct ones). */
export function lettered(targets: readonly InfluxQLTargetBuilder[]): InfluxQLTargetBuilder[] {
  return targets.map((t, i) => t.refId(String.fromCharCode(65 + i)));
}

/** The `$datasource` variable: any InfluxDB data source, default the provisioned one. */
export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(DATASOURCE_VAR)
    .label("InfluxDB")
    .type("influxdb")
    .current({ selected: true, text: DATASOURCE_NAME, value: DATASOURCE_UID });
}

/** A query variable over `SHOW TAG VALUES` (re-read when the time range changes). */
export function tagVariable(opts: {
  name: string;
  label: string;
  /** Measurement(s) whose tag values are listed. */
  from: string | readonly string[];
  key: string;
  where?: readonly Condition[];
  multi?: boolean;
  sort?: dashboard.VariableSort;
}): dashboard.QueryVariableBuilder {
  const q = showTagValues({ from: opts.from, key: opts.key, where: opts.where });
  const v = new dashboard.QueryVariableBuilder(opts.name)
    .label(opts.label)
    .datasource(datasourceRef)
    .query(q)
    .definition(q)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(opts.sort ?? dashboard.VariableSort.AlphabeticalAsc);
  if (opts.multi) v.multi(true).includeAll(true);
  return v;
}

/** An annotation source: an InfluxQL query over the `event` measurement. */
export function annotation(name: string, color: string, query: SelectQuery, cols: { text?: string; tags?: readonly string[]; title?: string }): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name(name)
    .datasource(datasourceRef)
    .enable(true)
    .iconColor(color)
    .target(target(query, "Anno").annotation(cols));
}
