export { assignParents, originBudget, treeDepth, DEFAULT_MAX_DEPTH, type RelayTree, type TreeInput, type TreeNode } from './tree.js';
export { createRelayHealth, type Demotion, type RelayHealth, type RelayHealthOptions, type RelaySample } from './demote.js';
export { createRelayPlanner, type PlannerNode, type RelayAssignment, type RelayPeer, type RelayEdgeView, type RelayParent, type RelayPlanner, type RelayPlannerDeps, type RelayTreeView } from './planner.js';
