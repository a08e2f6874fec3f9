#include <cstdio>
int main() { std::puts("qat-cli: under construction"); return 1; }
