// The program of a layer check (engine/CMakeLists.txt): the subsystem is linked in whole, so any
// symbol it needs from a subsystem it does not declare is an undefined reference.
int main() { return 0; }
