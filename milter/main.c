/* placeholder: replaced by the daemon's main */
int main(void);
int main(void) { return 0; }
