// GOV.UK Frontend's components, where JavaScript runs. Every page works without it.
import { initAll } from "/govuk/govuk-frontend.min.js";

initAll();
