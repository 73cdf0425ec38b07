// The service of bench scenario I, one definition for the bench and the tests.
export { SimulatedService } from "../../bench/src/simulated-service.js";
