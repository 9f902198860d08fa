import { describe, expect, it } from "vitest";
import { parseRegistries } from "../shared/domain/registries.js";
import { registriesFor } from "./index-target.js";

const listed = (() => {
  const r = parseRegistries("myacr.azurecr.io");
  if (!r.ok) throw new Error(r.error);
  return r.value;
})();

describe("registriesFor", () => {
  it("adds the one registry a reference on the command line names, with Docker config credentials", () => {
    expect(registriesFor("ghcr.io/org/app:1.0", listed)).toEqual([
      ...listed,
      { host: "ghcr.io", kind: "oci", plainHttp: false, credential: { type: "docker-config" } }
    ]);
  });

  it("keeps a listed registry's own entry, and adds nothing for other targets", () => {
    expect(registriesFor("MyACR.azurecr.io/team/api@sha256:" + "a".repeat(64), listed)).toBe(listed);
    for (const target of ["dir:/srv/rootfs", "oci:./layout:v1", "docker-archive:./a.tar", "sbom:./a.json", "library/ubuntu"]) {
      expect(registriesFor(target, listed)).toBe(listed);
    }
  });
});
