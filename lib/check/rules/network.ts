/** Family of the network: `network-reachability`, checked by ../network.ts networkReachabilityProblems. */
import { CheckRule } from './rule';

export const NETWORK_REACHABILITY: CheckRule = {
  id: 'network-reachability',
  summary:
    'NetworkPolicies admit every connection the objects imply: env URLs to Services, Prometheus scrapes, Ingress and LoadBalancer ' +
    'traffic, Indexed Job peers, object storage',
  fix: 'add the ingress rule on the server side and the egress rule on the client side (wire workloads by object: server.allowFrom)',
};
